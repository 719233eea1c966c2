//! A captured HTTP request, as a proxy, `nc -l` or a request bin saves it: headers and body,
//! with a chunked body de-chunked to the bytes that were signed.

use http::{HeaderMap, HeaderName, HeaderValue};

/// The most headers a dump may hold.
const MAX_HEADERS: usize = 128;

/// The headers and the body of a captured request.
pub(crate) fn parse(raw: &[u8]) -> Result<(HeaderMap, Vec<u8>), String> {
    // A dump that starts with its headers (no request line) is read as a POST.
    let first_line = raw.split(|&byte| byte == b'\n').next().unwrap_or_default();
    let starts_with_header = first_line
        .iter()
        .position(|&byte| byte == b':')
        .is_some_and(|colon| !first_line[..colon].contains(&b' '));
    let owned;
    let raw = if starts_with_header {
        owned = [&b"POST / HTTP/1.1\r\n"[..], raw].concat();
        &owned[..]
    } else {
        raw
    };
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    let head_len = match request.parse(raw) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return Err("the request ends before the blank line after its headers".to_owned())
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(format!("the request has more than {MAX_HEADERS} headers"))
        }
        Err(err) => return Err(format!("the request is not HTTP/1.x: {err}")),
    };
    let mut headers = HeaderMap::new();
    for header in request.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| format!("the header name {:?} is not valid", header.name))?;
        let value = HeaderValue::from_bytes(header.value)
            .map_err(|_| format!("the value of {name} is not a valid header value"))?;
        headers.append(name, value);
    }
    let body = &raw[head_len..];
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
    if chunked {
        // What the server verifies is the de-chunked body; the framing headers go with it.
        headers.remove(http::header::TRANSFER_ENCODING);
        return Ok((headers, dechunk(body)?));
    }
    Ok((headers, body.to_vec()))
}

/// The data of a chunked body; the trailers are dropped (nothing in them is signed).
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let (start, size) = match httparse::parse_chunk_size(body) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => {
                return Err("the chunked body ends inside a chunk header".to_owned())
            }
            Err(_) => return Err("the chunked body has a malformed chunk size".to_owned()),
        };
        if size == 0 {
            return Ok(out);
        }
        let rest = &body[start..];
        let data = usize::try_from(size)
            .ok()
            .and_then(|size| rest.get(..size))
            .ok_or("the chunked body ends inside a chunk")?;
        out.extend_from_slice(data);
        let after = &rest[data.len()..];
        body = after
            .strip_prefix(b"\r\n")
            .or_else(|| after.strip_prefix(b"\n"))
            .ok_or("a chunk of the chunked body is longer than its size says")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_body_is_de_chunked() {
        let raw = b"POST /hook HTTP/1.1\r\nSvix-Id: msg_1\r\nTransfer-Encoding: chunked\r\n\r\n\
                    4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n";
        let (headers, body) = parse(raw).unwrap();
        assert_eq!(body, br#"{"a":1}"#);
        assert_eq!(headers["svix-id"], "msg_1");
        assert!(!headers.contains_key("transfer-encoding"));
    }

    #[test]
    fn broken_chunking_is_an_error_not_a_guess() {
        for raw in [
            &b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
        ] {
            assert!(parse(raw).is_err(), "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn dumps_with_lf_lines_or_without_a_request_line_are_read() {
        let (headers, body) =
            parse(b"svix-id: msg_2\ncontent-type: application/json\n\n{}").unwrap();
        assert_eq!(headers["svix-id"], "msg_2");
        assert_eq!(body, b"{}");
        assert!(parse(b"POST / HTTP/1.1\r\nsvix-id: x\r\n").is_err());
    }
}
