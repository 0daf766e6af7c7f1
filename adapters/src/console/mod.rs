//! The console adapter: chat lines from a terminal or a piped transcript become invocations; replies are printed
//! as text or JSON lines. Each line's work is settled before the next line is read, so a piped transcript gives
//! the same output every time.

mod advance;
mod escape;
mod format;
mod line;
mod sink;

use std::io;
use std::sync::Arc;

use chrono::Utc;
use mystocks_commands::{
    Actor, Addressing, Conversation, Handler, Identity, Invocation, ReplySink,
};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

pub use advance::TimeControl;
pub use escape::strip_controls;
pub use format::{Format, Record};
pub use line::{HELP, Line, MAX_LINE_BYTES, parse as parse_line};
pub use sink::{ConsoleSink, Output, output};

/// The channel every console line is said in.
pub const CHANNEL: &str = "console:main";

/// How a console session runs.
#[derive(Clone, Debug)]
pub struct ConsoleOptions {
    pub format: Format,
    /// The person acting at start (`:as` changes it).
    pub person: String,
    /// A person at a terminal: show a prompt. Otherwise (piped) no prompt; text format echoes each line instead,
    /// so the output reads as a transcript.
    pub interactive: bool,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            format: Format::Text,
            person: "alice".into(),
            interactive: false,
        }
    }
}

/// Whether to keep reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// One console session.
pub struct Console {
    handler: Arc<dyn Handler>,
    /// Moves the clock for `:advance` (the demo's simulated clock); `None`: the wall clock, which cannot move.
    time: Option<Arc<dyn TimeControl>>,
    sink: Arc<ConsoleSink>,
    options: ConsoleOptions,
    /// Where the prompt goes: the output in text format, stderr in JSON format (stdout stays pure JSON).
    prompt_out: Output,
    person: String,
    thread: Option<String>,
    session: String,
    lines: u64,
}

impl Console {
    /// A session that prints to `out`.
    pub fn new(handler: Arc<dyn Handler>, options: ConsoleOptions, out: Output) -> Console {
        let prompt_out = match options.format {
            Format::Text => out.clone(),
            Format::Json => sink::output(io::stderr()),
        };
        Console {
            handler,
            time: None,
            sink: Arc::new(ConsoleSink::new(options.format, out)),
            person: options.person.clone(),
            options,
            prompt_out,
            thread: None,
            session: uuid::Uuid::new_v4().simple().to_string(),
            lines: 0,
        }
    }

    /// A session on this process's stdin and stdout; interactive when stdin is a terminal.
    pub fn stdio(handler: Arc<dyn Handler>, format: Format, person: &str) -> Console {
        use std::io::IsTerminal;
        let options = ConsoleOptions {
            format,
            person: person.to_string(),
            interactive: io::stdin().is_terminal(),
        };
        Console::new(handler, options, sink::output(io::stdout()))
    }

    /// Lets `:advance DURATION` move time through `time`.
    pub fn with_time_control(mut self, time: Arc<dyn TimeControl>) -> Self {
        self.time = Some(time);
        self
    }

    /// The sink replies are printed through.
    pub fn sink(&self) -> Arc<ConsoleSink> {
        self.sink.clone()
    }

    /// The person acting now.
    pub fn person(&self) -> &str {
        &self.person
    }

    /// The thread lines go to now (`None`: the channel).
    pub fn thread(&self) -> Option<&str> {
        self.thread.as_deref()
    }

    /// Reads lines until end of input or `:quit`. Invalid UTF-8 is replaced, never fatal.
    pub async fn run<R: AsyncBufRead + Unpin>(&mut self, mut input: R) -> io::Result<()> {
        let mut buf = Vec::new();
        loop {
            if self.options.interactive {
                self.write_prompt(&self.prompt())?;
            }
            buf.clear();
            if input.read_until(b'\n', &mut buf).await? == 0 {
                return Ok(());
            }
            let text = String::from_utf8_lossy(&buf);
            if self.handle_line(&text).await? == Flow::Stop {
                return Ok(());
            }
        }
    }

    fn prompt(&self) -> String {
        format!(
            "{}@{}> ",
            self.person,
            self.thread.as_deref().unwrap_or("main")
        )
    }

    fn write_prompt(&self, text: &str) -> io::Result<()> {
        sink::write(&self.prompt_out, text).map_err(|e| io::Error::other(e.0))
    }

    fn notice(&self, level: &str, text: &str) -> io::Result<()> {
        self.sink
            .notice(level, text, self.thread.as_deref())
            .map_err(|e| io::Error::other(e.0))
    }

    /// Handles one line: a directive changes the session, chat text goes to the handler (and is settled).
    pub async fn handle_line(&mut self, raw: &str) -> io::Result<Flow> {
        let parsed = line::parse(raw);
        if parsed != Line::Skip && !self.options.interactive && self.options.format == Format::Text
        {
            let echo = format!("{}{}\n", self.prompt(), strip_controls(raw.trim()));
            self.write_prompt(&echo)?;
        }
        match parsed {
            Line::Skip => {}
            Line::As(person) => self.person = person,
            Line::Thread(thread) => self.thread = thread,
            Line::Help => self.notice("info", HELP)?,
            Line::Quit => return Ok(Flow::Stop),
            Line::Invalid(why) => self.notice("warn", &why)?,
            Line::Advance(by) => match &self.time {
                Some(time) => {
                    let now = time.advance(by).await;
                    self.notice("info", &now)?;
                }
                None => self.notice(
                    "warn",
                    "this console runs on the wall clock; :advance works in the demo",
                )?,
            },
            Line::Say(text) => {
                let invocation = self.invocation(text);
                let sink: Arc<dyn ReplySink> = self.sink.clone();
                self.handler.handle(invocation, sink).await;
                self.handler.settle().await;
            }
        }
        Ok(Flow::Continue)
    }

    fn invocation(&mut self, text: String) -> Invocation {
        self.lines += 1;
        Invocation {
            event_id: format!("console:{}:{}", self.session, self.lines),
            actor: Actor {
                identity: Identity::new("console", &self.person),
                display_name: self.person.clone(),
            },
            conversation: Conversation {
                channel: CHANNEL.to_string(),
                thread: self.thread.clone(),
            },
            addressing: Addressing::Direct,
            text,
            received_at: Utc::now(),
        }
    }
}

#[cfg(test)]
mod tests;
