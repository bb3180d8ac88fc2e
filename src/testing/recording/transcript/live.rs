//! A transcript as the server writes it: the bytes of its lines in a few
//! large buffers, turned into [`TranscriptLine`]s only when read. A line
//! costs a copy of its bytes and no allocation of its own, and no UTF-8
//! check until someone looks.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::ops::Range;
use std::time::{Instant, SystemTime};

use super::{Direction, Transcript, TranscriptLine};

/// Lines kept from the start of a session, and from its end: a session that
/// runs for a million messages keeps a bounded transcript.
pub(super) const HEAD_LINES: usize = 1_000;
pub(super) const TAIL_LINES: usize = 4_000;
/// Lines per block of the tail: the tail lets go of its oldest lines a
/// block at a time, so it holds up to `TAIL_LINES + TAIL_BLOCK` lines and
/// shows the last `TAIL_LINES`.
const TAIL_BLOCK: usize = 500;
/// Room a session's first lines get at once: a session of one 1 KiB
/// message (about 26 lines, 1.5 KiB) fits without growing.
const FIRST_LINES: usize = 32;
const FIRST_BYTES: usize = 2048;

/// What follows a line's kept bytes when it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Nothing: the line is whole.
    Whole,
    /// The line was longer than shown: `... (N bytes)`.
    Shortened(usize),
    /// The server itself did not keep the line whole: `... (N bytes, cut)`.
    Cut(usize),
}

/// One line as stored: its bytes are `text[start..end]` of its block.
struct Stored {
    at: Instant,
    end: usize,
    direction: Direction,
    ending: Ending,
}

/// Lines whose bytes share one buffer.
#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    lines: Vec<Stored>,
}

impl Block {
    fn with_capacity(lines: usize) -> Block {
        Block {
            bytes: Vec::new(),
            lines: Vec::with_capacity(lines),
        }
    }

    fn push(&mut self, at: Instant, direction: Direction, bytes: &[u8], ending: Ending) {
        self.bytes.extend_from_slice(bytes);
        self.lines.push(Stored {
            at,
            end: self.bytes.len(),
            direction,
            ending,
        });
    }

    fn span(&self, index: usize) -> Range<usize> {
        let start = index.checked_sub(1).map_or(0, |before| self.lines[before].end);
        start..self.lines[index].end
    }

    /// Lines `from..` as the reader sees them.
    fn shown(&self, from: usize, started: Instant) -> impl Iterator<Item = TranscriptLine> + '_ {
        (from..self.lines.len()).map(move |index| {
            let stored = &self.lines[index];
            let kept = String::from_utf8_lossy(&self.bytes[self.span(index)]);
            let text = match stored.ending {
                Ending::Whole => kept.into_owned(),
                Ending::Shortened(length) => format!("{kept}... ({length} bytes)"),
                Ending::Cut(length) => format!("{kept}... ({length} bytes, cut)"),
            };
            TranscriptLine {
                at: stored.at.saturating_duration_since(started),
                direction: stored.direction,
                text,
            }
        })
    }
}

/// A transcript as it is written: its first lines, its last lines, and how
/// many lines in between were let go.
pub(super) struct Live {
    session_id: u64,
    peer: SocketAddr,
    proxy: Option<SocketAddr>,
    started: SystemTime,
    /// What the line times count from.
    clock: Instant,
    pub(super) closed: bool,
    head: Block,
    /// The tail's full blocks, oldest first, and how many lines they hold.
    full: VecDeque<Block>,
    full_lines: usize,
    /// The tail's block being written (fewer than `TAIL_BLOCK` lines).
    current: Block,
    /// Lines let go with the tail's old blocks.
    dropped: usize,
}

impl Live {
    pub(super) fn new(session_id: u64, peer: SocketAddr, proxy: Option<SocketAddr>) -> Live {
        Live {
            session_id,
            peer,
            proxy,
            started: SystemTime::now(),
            clock: Instant::now(),
            closed: false,
            head: Block {
                bytes: Vec::with_capacity(FIRST_BYTES),
                lines: Vec::with_capacity(FIRST_LINES),
            },
            full: VecDeque::new(),
            full_lines: 0,
            current: Block::default(),
            dropped: 0,
        }
    }

    /// Adds a line: `bytes` shown as text (invalid UTF-8 as U+FFFD), then
    /// what `ending` says.
    pub(super) fn push(&mut self, at: Instant, direction: Direction, bytes: &[u8], ending: Ending) {
        if self.head.lines.len() < HEAD_LINES {
            self.head.push(at, direction, bytes, ending);
            return;
        }
        self.current.push(at, direction, bytes, ending);
        if self.current.lines.len() >= TAIL_BLOCK {
            self.next_block();
        }
    }

    /// The written block joins the full ones; the oldest full block goes
    /// once the others hold `TAIL_LINES` without it, and is written next.
    fn next_block(&mut self) {
        let written = std::mem::take(&mut self.current);
        self.full_lines += written.lines.len();
        self.full.push_back(written);
        let oldest = self.full.front().map_or(0, |block| block.lines.len());
        if self.full_lines - oldest >= TAIL_LINES {
            if let Some(mut recycled) = self.full.pop_front() {
                self.full_lines -= oldest;
                self.dropped += oldest;
                recycled.bytes.clear();
                recycled.lines.clear();
                self.current = recycled;
            }
        } else {
            self.current = Block::with_capacity(TAIL_BLOCK);
        }
    }

    fn tail_lines(&self) -> usize {
        self.full_lines + self.current.lines.len()
    }

    pub(super) fn snapshot(&self) -> Transcript {
        let tail_lines = self.tail_lines();
        let hidden = tail_lines.saturating_sub(TAIL_LINES);
        let mut lines = Vec::with_capacity(self.head.lines.len() + 1 + tail_lines - hidden);
        lines.extend(self.head.shown(0, self.clock));
        // The tail's lines from `hidden` on: skip whole blocks, then lines.
        let mut skip = hidden;
        let mut tail = Vec::new();
        for block in self.full.iter().chain([&self.current]) {
            if skip >= block.lines.len() {
                skip -= block.lines.len();
                continue;
            }
            tail.extend(block.shown(skip, self.clock));
            skip = 0;
        }
        let dropped = self.dropped + hidden;
        if dropped > 0 {
            lines.push(TranscriptLine {
                at: tail.first().map(|line| line.at).unwrap_or_default(),
                direction: Direction::Note,
                text: format!("({dropped} lines not kept: only the first and the last are)"),
            });
        }
        lines.extend(tail);
        Transcript {
            session_id: self.session_id,
            peer: self.peer,
            proxy: self.proxy,
            started: self.started,
            lines,
            closed: self.closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Live {
        Live::new(1, SocketAddr::from(([127, 0, 0, 1], 25)), None)
    }

    fn texts(live: &Live) -> Vec<String> {
        live.snapshot().lines.into_iter().map(|line| line.text).collect()
    }

    #[test]
    fn lines_show_their_ending_and_invalid_bytes_as_replacement() {
        let mut live = live();
        let at = Instant::now();
        live.push(at, Direction::Client, b"EHLO x", Ending::Whole);
        live.push(at, Direction::Client, b"caf\xc3", Ending::Whole);
        live.push(at, Direction::Client, b"AAAA", Ending::Shortened(2000));
        live.push(at, Direction::Server, b"", Ending::Whole);
        live.push(at, Direction::Client, b"BB", Ending::Cut(70_000));
        assert_eq!(
            texts(&live),
            [
                "EHLO x",
                "caf\u{FFFD}",
                "AAAA... (2000 bytes)",
                "",
                "BB... (70000 bytes, cut)"
            ]
        );
        assert_eq!(live.snapshot().lines[3].direction, Direction::Server);
    }

    #[test]
    fn every_length_keeps_the_head_and_exactly_the_last_tail_lines() {
        // Around each point where a block fills or goes.
        let lengths = [0, 1, HEAD_LINES, HEAD_LINES + 1, HEAD_LINES + TAIL_LINES]
            .into_iter()
            .chain((0..=3).flat_map(|blocks| {
                let at = HEAD_LINES + TAIL_LINES + blocks * TAIL_BLOCK;
                [at - 1, at, at + 1]
            }));
        for total in lengths {
            let mut live = live();
            let at = Instant::now();
            for n in 0..total {
                live.push(
                    at,
                    Direction::Client,
                    format!("NOOP {n}").as_bytes(),
                    Ending::Whole,
                );
            }
            let mut expected: Vec<String> = (0..total.min(HEAD_LINES)).map(|n| format!("NOOP {n}")).collect();
            let dropped = total.saturating_sub(HEAD_LINES + TAIL_LINES);
            if dropped > 0 {
                expected.push(format!(
                    "({dropped} lines not kept: only the first and the last are)"
                ));
            }
            expected.extend((HEAD_LINES + dropped..total).map(|n| format!("NOOP {n}")));
            assert_eq!(texts(&live), expected, "after {total} lines");
            assert!(live.tail_lines() < TAIL_LINES + TAIL_BLOCK, "after {total} lines");
        }
    }
}
