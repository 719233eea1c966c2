//! Printing what a server sent: bounded, and with the characters that could drive a terminal
//! escaped.

use std::fmt::Write;

/// `bytes` as text a terminal shows as it is: invalid UTF-8 replaced, and control characters
/// (but newline and tab) and the bidirectional overrides written as `\u{..}` escapes.
pub(crate) fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\n' && c != '\t') || bidi {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_lines_kept() {
        assert_eq!(
            printable(b"ok\x1b[2J\r\n\tdone\x07\x7f"),
            "ok\\u{1b}[2J\\u{d}\n\tdone\\u{7}\\u{7f}"
        );
        assert_eq!(
            printable("a\u{202e}b\u{85}".as_bytes()),
            "a\\u{202e}b\\u{85}"
        );
        assert_eq!(printable(b"\xff{}"), "\u{fffd}{}");
    }
}
