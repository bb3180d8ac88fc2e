//! Replies (`protocol::reply`) and command lines (`protocol::command`).
//!
//! Oracles: any reply a handler can build is well formed on the wire, one
//! line per `\n` of its text; `Display` and the wire form agree; a one-line
//! reply parses back from its text; an enhanced status goes on every line
//! once; a command line splits into a verb without spaces and a trimmed
//! argument, and joins back into a line that splits the same way.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use smtp_fixture::protocol::{Command, Verb};
use smtp_fixture::Reply;
use smtp_fixture_fuzz::wire::check_reply;

#[derive(Arbitrary, Debug)]
struct ReplyCommandInput {
    code: u16,
    text: String,
    lines: Vec<String>,
    status: (u8, u16, u16),
    /// Parsed as a reply by `Reply::parse` and as a command line.
    line: String,
}

fuzz_target!(|input: ReplyCommandInput| {
    let code = 200 + input.code % 400;
    let reply = Reply::new(code, &input.text);
    check_built(&reply, input.text.split('\n').count());
    let multiline = Reply::multiline(code, &input.lines);
    check_built(&multiline, input.lines.len().max(1));

    // RFC 3463 status classes are 2, 4 and 5 (3xx replies get none).
    let class = code / 100;
    if class != 3 {
        let (_, subject, detail) = input.status;
        let status = format!("{class}.{}.{}", subject % 1000, detail % 1000);
        let enhanced = reply.clone().with_enhanced_status(&status);
        check_built(&enhanced, reply.lines().len());
        assert_eq!(
            enhanced.clone().with_enhanced_status(&status),
            enhanced,
            "status added twice"
        );
    }
    if let Some(default) = Reply::default_enhanced_status(code) {
        assert!(default.starts_with(&class.to_string()), "{code} gets {default}");
    }

    check_parse(&input.line);
    check_command(&input.line);
});

fn check_built(reply: &Reply, lines: usize) {
    if let Err(problem) = check_reply(reply, usize::MAX) {
        panic!("{problem}: {reply:?}");
    }
    assert_eq!(reply.lines().len(), lines, "{reply:?}");
    let shown = format!("{reply}\n").replace('\n', "\r\n");
    assert_eq!(
        shown.as_bytes(),
        reply.to_wire(),
        "Display and the wire form differ"
    );
    if reply.lines().len() == 1 {
        assert_eq!(Reply::parse(&reply.to_string()).as_ref(), Ok(reply), "{reply}");
    }
}

fn check_parse(text: &str) {
    let Ok(reply) = Reply::parse(text) else {
        return;
    };
    assert!((200..600).contains(&reply.code()), "{text:?}");
    assert!(
        text.starts_with(&reply.code().to_string()),
        "{text:?} read as {}",
        reply.code()
    );
    if let Err(problem) = check_reply(&reply, usize::MAX) {
        panic!("{problem}: parsed from {text:?}");
    }
    if reply.lines().len() == 1 {
        assert_eq!(Reply::parse(&reply.to_string()), Ok(reply.clone()), "{text:?}");
    }
}

fn check_command(line: &str) {
    let command = Command::parse(line);
    assert!(
        !command.name().contains(' '),
        "{line:?}: verb {:?}",
        command.name()
    );
    if let Some(arg) = command.arg() {
        assert!(!arg.is_empty() && arg.trim() == arg, "{line:?}: argument {arg:?}");
    }
    assert_eq!(command.verb(), Verb::from_name(command.name()), "{line:?}");
    if let Some(verb) = command.verb() {
        assert_eq!(verb.name(), command.name());
    }
    let joined = match command.arg() {
        Some(arg) => format!("{} {arg}", command.name()),
        None => command.name().to_string(),
    };
    assert_eq!(
        Command::parse(&joined),
        command,
        "{line:?} joined back as {joined:?}"
    );
}
