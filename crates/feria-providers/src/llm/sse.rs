//! Server-sent events as the providers stream them: events split on blank lines, `event:` and
//! `data:` fields (several `data:` lines joined), comment lines ignored. Bytes arrive in chunks
//! that may cut a line, or a character, anywhere.

/// One event: its name (Anthropic names them; OpenAI does not) and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

/// Reads events out of chunks as they come.
#[derive(Default)]
pub struct Parser {
    buffer: Vec<u8>,
}

/// Most bytes one event may hold before the stream is given up as garbage.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

impl Parser {
    /// The events `chunk` completes; `None` when an event grows past [`MAX_EVENT_BYTES`].
    pub fn push(&mut self, chunk: &[u8]) -> Option<Vec<Event>> {
        self.buffer.extend(chunk.iter().filter(|b| **b != b'\r'));
        let mut events = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&block[..end]);
            let mut event = Event { name: None, data: String::new() };
            let mut has_data = false;
            for line in text.lines() {
                if let Some(value) = line.strip_prefix("data:") {
                    if has_data {
                        event.data.push('\n');
                    }
                    event.data.push_str(value.strip_prefix(' ').unwrap_or(value));
                    has_data = true;
                } else if let Some(value) = line.strip_prefix("event:") {
                    event.name = Some(value.trim().to_string());
                }
            }
            if has_data {
                events.push(event);
            }
        }
        (self.buffer.len() <= MAX_EVENT_BYTES).then_some(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_any_cut() {
        let stream = "event: message_start\r\ndata: {\"a\":\"ñ\"}\r\n\r\n: a comment\n\ndata: one\ndata: two\n\ndata: [DONE]\n\n";
        let expected = vec![
            Event { name: Some("message_start".into()), data: "{\"a\":\"ñ\"}".into() },
            Event { name: None, data: "one\ntwo".into() },
            Event { name: None, data: "[DONE]".into() },
        ];
        for cut in 1..stream.len() {
            let mut parser = Parser::default();
            let (a, b) = stream.as_bytes().split_at(cut);
            let mut events = parser.push(a).unwrap();
            events.extend(parser.push(b).unwrap());
            assert_eq!(events, expected, "cut at {cut}");
        }
        assert!(Parser::default().push(&vec![b'x'; MAX_EVENT_BYTES + 1]).is_none());
    }
}
