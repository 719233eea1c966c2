//! Gathering the body of a request that is not verified yet.
//!
//! Until its signature verifies, a request may cost only what it actually sent: the buffer grows
//! with the data that arrived, never with the length the client announced, and every reservation
//! is fallible so that a failed allocation is an answer rather than an abort. What it holds is
//! drawn from the budget that all unverified bodies share.

use bytes::Bytes;

use super::budget::{Share, SMALL_BODY};

/// The most room a buffer holds beyond the bytes that arrived: what a body is charged against
/// the budget beyond what it sent. Growth by a quarter keeps the copies few (about a dozen
/// reallocations for 1 MiB) where doubling charged up to twice what was sent.
pub(crate) const MAX_SLACK: usize = 64 * 1024;

/// A request body gathered up to a limit, copying as little as possible: a body that arrives as
/// one frame is kept as that frame's `Bytes`; a body in several frames is copied into a buffer
/// whose spare room is at most a quarter of what arrived and never more than [`MAX_SLACK`] (and
/// which never exceeds an announced length it has reached).
/// Its memory is held against a [`Share`] of the unverified budget, given back when it is dropped
/// or handed on.
#[derive(Debug, Default)]
pub(crate) struct BodyBuffer {
    limit: usize,
    announced: Option<usize>,
    state: Buffered,
    share: Share,
}

#[derive(Debug, Default)]
enum Buffered {
    #[default]
    Empty,
    One(Bytes),
    Many(Vec<u8>),
}

/// Why a frame could not be added.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BufferError {
    /// The body grew past the limit.
    OverLimit,
    /// The allocator refused the memory.
    OutOfMemory,
    /// Unverified bodies already hold the whole budget.
    BudgetExhausted,
}

impl BodyBuffer {
    /// `announced` is the length the request claims (Content-Length or size hint). It is only ever
    /// used to avoid over-allocating once that much data has really arrived.
    pub(crate) fn new(limit: usize, announced: Option<u64>, share: Share) -> Self {
        Self {
            limit,
            announced: announced.and_then(|length| usize::try_from(length).ok()),
            state: Buffered::Empty,
            share,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.state {
            Buffered::Empty => 0,
            Buffered::One(bytes) => bytes.len(),
            Buffered::Many(buffer) => buffer.len(),
        }
    }

    pub(crate) fn push(&mut self, data: Bytes) -> Result<(), BufferError> {
        if data.len() > self.limit - self.len() {
            return Err(BufferError::OverLimit);
        }
        if data.is_empty() {
            return Ok(());
        }
        self.state = match std::mem::take(&mut self.state) {
            Buffered::Empty => {
                self.share.grow_to(data.len())?;
                Buffered::One(data)
            }
            Buffered::One(first) => {
                let mut buffer = Vec::new();
                self.grow(&mut buffer, first.len() + data.len())?;
                buffer.extend_from_slice(&first);
                buffer.extend_from_slice(&data);
                Buffered::Many(buffer)
            }
            Buffered::Many(mut buffer) => {
                let needed = buffer.len() + data.len();
                if buffer.capacity() < needed {
                    self.grow(&mut buffer, needed)?;
                }
                buffer.extend_from_slice(&data);
                Buffered::Many(buffer)
            }
        };
        Ok(())
    }

    /// Reserves room for `needed` bytes and a quarter more (at most [`MAX_SLACK`]), bounded by the
    /// limit, and by the announced length once the data has reached it (so an honest body ends in
    /// one exact fit). The budget is charged for the whole capacity before the allocator is asked.
    fn grow(&mut self, buffer: &mut Vec<u8>, needed: usize) -> Result<(), BufferError> {
        let slack = (needed / 4).min(MAX_SLACK);
        let mut target = needed.saturating_add(slack).min(self.limit);
        // A body that is still small stays within what may draw on the budget's reserve.
        if needed <= SMALL_BODY {
            target = target.min(SMALL_BODY);
        }
        if let Some(announced) = self.announced.filter(|&announced| announced >= needed) {
            target = target.min(announced);
        }
        self.share.grow_to(target)?;
        buffer
            .try_reserve_exact(target - buffer.len())
            .map_err(|_| BufferError::OutOfMemory)
    }

    /// The body, handed on without spare capacity; its share of the budget is given back (the
    /// bytes are verified next, synchronously, and are then the handler's or dropped).
    pub(crate) fn into_bytes(self) -> Bytes {
        match self.state {
            Buffered::Empty => Bytes::new(),
            Buffered::One(bytes) => bytes,
            Buffered::Many(mut buffer) => {
                buffer.shrink_to_fit();
                // `Bytes::from(Vec)` takes the allocation over; nothing is copied.
                Bytes::from(buffer)
            }
        }
    }
}

impl From<super::budget::Exhausted> for BufferError {
    fn from(_: super::budget::Exhausted) -> Self {
        Self::BudgetExhausted
    }
}

#[cfg(test)]
mod tests {
    use super::super::budget::UnverifiedBudget;
    use super::*;

    fn buffer(limit: usize, announced: Option<u64>) -> BodyBuffer {
        BodyBuffer::new(
            limit,
            announced,
            UnverifiedBudget::new(usize::MAX, 0).share(),
        )
    }

    fn capacity(buffer: &BodyBuffer) -> usize {
        match &buffer.state {
            Buffered::Many(inner) => inner.capacity(),
            Buffered::One(frame) => frame.len(),
            Buffered::Empty => 0,
        }
    }

    #[test]
    fn one_frame_is_kept_without_copy() {
        let frame = Bytes::from_static(b"hello");
        let mut buffer = buffer(10, Some(5));
        buffer.push(frame.clone()).unwrap();
        assert_eq!(buffer.into_bytes().as_ptr(), frame.as_ptr());
    }

    #[test]
    fn an_announced_length_reserves_nothing_until_the_data_arrives() {
        // A forged request announcing 1 MiB that sends 4 bytes in two frames.
        let mut buffer = buffer(1 << 20, Some(1 << 20));
        buffer.push(Bytes::from_static(b"ab")).unwrap();
        buffer.push(Bytes::from_static(b"cd")).unwrap();
        assert!(
            capacity(&buffer) <= 8,
            "reserved {} bytes",
            capacity(&buffer)
        );
    }

    #[test]
    fn an_honest_announced_length_ends_in_an_exact_fit() {
        let mut buffer = buffer(100, Some(9));
        for part in ["abc", "def", "ghi"] {
            buffer.push(Bytes::from(part)).unwrap();
        }
        assert_eq!(capacity(&buffer), 9);
        assert_eq!(buffer.into_bytes(), Bytes::from_static(b"abcdefghi"));
    }

    #[test]
    fn capacity_is_what_arrived_and_a_bounded_slack_and_none_is_handed_on() {
        let mut buffer = buffer(1 << 20, None);
        for _ in 0..100 {
            buffer.push(Bytes::from(vec![b'x'; 1000])).unwrap();
            let (held, sent) = (capacity(&buffer), buffer.len());
            assert!(held <= sent + sent / 4 + 1000, "{held} for {sent}");
        }
        let bytes = buffer.into_bytes();
        assert_eq!(bytes.len(), 100_000);
        let vec: Vec<u8> = bytes.into();
        assert_eq!(vec.capacity(), 100_000);
    }

    /// Regression (issue 30, item 5): a body of 128 KiB + 2 bytes in three frames (and any HTTP/2
    /// body, in 16 KiB frames) was charged about twice what it sent, because the buffer's
    /// capacity doubled; 128 of them filled the 32 MiB budget with 16 MiB sent.
    #[test]
    fn a_large_body_in_frames_is_charged_what_it_sent_and_a_bounded_slack() {
        let budget = UnverifiedBudget::new(usize::MAX, 0);
        for frames in [vec![65_536, 65_536, 2], vec![16_384; 64]] {
            let mut buffer = BodyBuffer::new(1 << 20, None, budget.share());
            for frame in &frames {
                buffer.push(Bytes::from(vec![b'x'; *frame])).unwrap();
                let (held, sent) = (capacity(&buffer), buffer.len());
                assert!(held <= sent + MAX_SLACK, "{held} held for {sent} sent");
                assert!(
                    held <= sent + sent / 4 + frame,
                    "{held} held for {sent} sent"
                );
            }
        }
    }

    #[test]
    fn the_limit_is_inclusive_and_never_exceeded() {
        let mut buffer = buffer(6, Some(u64::MAX));
        buffer.push(Bytes::from_static(b"abc")).unwrap();
        buffer.push(Bytes::from_static(b"def")).unwrap();
        assert_eq!(
            buffer.push(Bytes::from_static(b"g")),
            Err(BufferError::OverLimit)
        );
        assert_eq!(buffer.len(), 6);
        assert!(
            capacity(&buffer) <= 6,
            "capacity {} over the limit",
            capacity(&buffer)
        );
    }

    #[test]
    fn a_refused_allocation_is_an_error_not_an_abort() {
        // With no limit, the second frame asks for more than any allocator grants.
        let mut buffer = buffer(usize::MAX, None);
        buffer.push(Bytes::from_static(b"a")).unwrap();
        let mut grown = Vec::new();
        assert_eq!(
            buffer.grow(&mut grown, usize::MAX / 2),
            Err(BufferError::OutOfMemory)
        );
    }

    #[test]
    fn the_budget_is_charged_for_capacity_and_given_back_once_handed_on() {
        let budget = UnverifiedBudget::new(64, 0);
        let mut first = BodyBuffer::new(1024, None, budget.share());
        first.push(Bytes::from(vec![b'x'; 20])).unwrap();
        first.push(Bytes::from(vec![b'x'; 20])).unwrap(); // copied into a buffer of 40 + 10
        assert_eq!(budget.free(), 14);
        let mut second = BodyBuffer::new(1024, None, budget.share());
        second.push(Bytes::from(vec![b'y'; 14])).unwrap();
        assert_eq!(
            second.push(Bytes::from_static(b"y")),
            Err(BufferError::BudgetExhausted)
        );
        drop(second);
        assert_eq!(first.into_bytes().len(), 40);
        assert_eq!(budget.free(), 64);
    }
}
