//! RESP2 framing: parsing client commands (arrays of bulk strings, or inline lines) and encoding replies.
//! Never panics on input; anything malformed is a protocol error, which the server answers and hangs up on.

/// Largest bulk string accepted (Redis allows 512 MB; a cache health check never needs more than this).
const MAX_BULK: usize = 8 * 1024 * 1024;
/// Most arguments in one command.
const MAX_ARGS: usize = 4096;
/// Longest inline command line.
const MAX_INLINE: usize = 64 * 1024;

/// The result of looking at the start of the input buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// Not a whole command yet: read more.
    Incomplete,
    /// A command (possibly empty, which is ignored) and how many bytes it used.
    Command(Vec<Vec<u8>>, usize),
    /// Malformed input: the message for `-ERR Protocol error: …`.
    Invalid(String),
}

/// Parses one command from the start of `buf`.
pub(crate) fn parse(buf: &[u8]) -> Parsed {
    match buf.first() {
        None => Parsed::Incomplete,
        Some(b'*') => parse_array(buf),
        Some(_) => parse_inline(buf),
    }
}

/// The line starting at `at` (without CRLF) and the offset after it; None when incomplete.
fn line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(at..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..end], at + end + 2))
}

fn number(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

fn parse_array(buf: &[u8]) -> Parsed {
    let Some((head, mut at)) = line(buf, 0) else {
        return too_long_or_incomplete(buf, "too big mbulk count string");
    };
    let count = match number(&head[1..]) {
        Some(n) if n <= 0 => return Parsed::Command(Vec::new(), at),
        Some(n) if (n as u64) <= MAX_ARGS as u64 => n as usize,
        _ => return Parsed::Invalid("invalid multibulk length".into()),
    };
    let mut args = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let Some((head, after)) = line(buf, at) else {
            return too_long_or_incomplete(&buf[at.min(buf.len())..], "too big bulk count string");
        };
        if head.first() != Some(&b'$') {
            let got = head.first().map_or('?', |b| char::from(*b));
            return Parsed::Invalid(format!("expected '$', got '{}'", printable(got)));
        }
        let len = match number(&head[1..]) {
            Some(n) if n >= 0 && (n as u64) <= MAX_BULK as u64 => n as usize,
            _ => return Parsed::Invalid("invalid bulk length".into()),
        };
        let end = after + len;
        if buf.len() < end + 2 {
            return Parsed::Incomplete;
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Parsed::Invalid("bulk string not terminated by CRLF".into());
        }
        args.push(buf[after..end].to_vec());
        at = end + 2;
    }
    Parsed::Command(args, at)
}

fn parse_inline(buf: &[u8]) -> Parsed {
    let Some(end) = buf.iter().position(|b| *b == b'\n') else {
        return if buf.len() > MAX_INLINE {
            Parsed::Invalid("too big inline request".into())
        } else {
            Parsed::Incomplete
        };
    };
    let line = buf[..end].strip_suffix(b"\r").unwrap_or(&buf[..end]);
    let args = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|a| !a.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    Parsed::Command(args, end + 1)
}

fn too_long_or_incomplete(rest: &[u8], what: &str) -> Parsed {
    if rest.len() > MAX_INLINE {
        Parsed::Invalid(what.into())
    } else {
        Parsed::Incomplete
    }
}

fn printable(c: char) -> char {
    if c.is_ascii_graphic() || c == ' ' {
        c
    } else {
        '?'
    }
}

/// Text safe inside a simple string or error reply: no CR/LF or other control bytes, at most 128 characters.
pub(crate) fn sanitize(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(128)
        .map(printable)
        .collect()
}

/// A reply to send.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    Simple(&'static str),
    Error(String),
    Bulk(Vec<u8>),
    Null,
    Integer(i64),
    EmptyArray,
}

impl Reply {
    /// The reply's wire form.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Reply::Simple(s) => format!("+{s}\r\n").into_bytes(),
            Reply::Error(e) => format!("-{}\r\n", sanitize(e.as_bytes())).into_bytes(),
            Reply::Bulk(b) => {
                let mut out = format!("${}\r\n", b.len()).into_bytes();
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
                out
            }
            Reply::Null => b"$-1\r\n".to_vec(),
            Reply::Integer(n) => format!(":{n}\r\n").into_bytes(),
            Reply::EmptyArray => b"*0\r\n".to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_inline_and_partial_input() {
        let ping = b"*1\r\n$4\r\nPING\r\n";
        assert_eq!(
            parse(ping),
            Parsed::Command(vec![b"PING".to_vec()], ping.len())
        );
        assert_eq!(parse(&ping[..9]), Parsed::Incomplete);
        assert_eq!(
            parse(b"ping hello\r\n"),
            Parsed::Command(vec![b"ping".to_vec(), b"hello".to_vec()], 12)
        );
        assert_eq!(parse(b"PING"), Parsed::Incomplete);
        assert_eq!(parse(b"*0\r\n"), Parsed::Command(vec![], 4));
    }

    #[test]
    fn malformed_input_is_a_protocol_error() {
        assert!(matches!(parse(b"*x\r\n"), Parsed::Invalid(_)));
        assert!(matches!(parse(b"*1\r\n+PING\r\n"), Parsed::Invalid(_)));
        assert!(matches!(parse(b"*1\r\n$-5\r\n"), Parsed::Invalid(_)));
        assert!(matches!(parse(b"*1\r\n$2\r\nabcd\r\n"), Parsed::Invalid(_)));
        assert!(matches!(
            parse(b"*99999999999999999999\r\n"),
            Parsed::Invalid(_)
        ));
        assert!(matches!(parse(&[b'a'; MAX_INLINE + 1]), Parsed::Invalid(_)));
    }

    #[test]
    fn errors_cannot_break_the_framing() {
        assert_eq!(
            Reply::Error("ERR bad\r\n+OK".into()).encode(),
            b"-ERR bad??+OK\r\n".to_vec()
        );
    }
}
