//! Building, showing and parsing replies; the standard replies.

use super::*;
use std::hash::{Hash, Hasher};

#[test]
fn a_reply_that_quotes_the_client_stays_one_line() {
    for reply in [
        replies::unknown_command("FOO\nBAR"),
        replies::could_not_vrfy("a\r\nb\nc"),
    ] {
        assert_eq!(reply.lines().len(), 1, "{reply:?}");
        assert!(!reply.to_wire()[..reply.to_wire().len() - 2].contains(&b'\n'));
    }
}

#[test]
fn wire_forms() {
    let cases: &[(Reply, &[u8])] = &[
        (Reply::new(250, "OK"), b"250 OK\r\n"),
        (Reply::new(250, "a\nb"), b"250-a\r\n250 b\r\n"),
        (Reply::new(250, "a\r\nb"), b"250-a\r\n250 b\r\n"),
        (Reply::new(550, "bare\rcr"), b"550 bare cr\r\n"),
        (
            Reply::multiline(250, ["x", "y", "z"]),
            b"250-x\r\n250-y\r\n250 z\r\n",
        ),
        (Reply::new(354, ""), b"354 \r\n"),
    ];
    for (reply, wire) in cases {
        assert_eq!(reply.to_wire(), wire.to_vec(), "{reply:?}");
    }
}

#[test]
fn parse_and_display_round_trip() {
    for text in ["250 OK", "550 5.1.1 No such user", "451 Try later"] {
        let reply = Reply::parse(text).expect(text);
        assert_eq!(reply.to_string(), text);
    }
    assert_eq!(Reply::parse("250").map(|r| r.text()), Ok(String::new()));
    assert_eq!(Reply::parse("250-x"), Ok(Reply::new(250, "x")));
    assert_eq!(Reply::parse("550 a\nb").map(|r| r.lines().len()), Ok(2));
}

#[test]
fn parse_errors_name_the_fault() {
    let cases = [
        ("25", ReplyError::TooShort),
        ("99 x", ReplyError::NotACode),
        ("hello", ReplyError::NotACode),
        ("600 x", ReplyError::BadCode(ReplyCode::new(600).unwrap_err())),
        ("199 x", ReplyError::BadCode(ReplyCode::new(199).unwrap_err())),
        ("250OK", ReplyError::MissingSeparator),
        ("2500 x", ReplyError::MissingSeparator),
    ];
    for (text, error) in cases {
        assert_eq!(Reply::parse(text), Err(error), "{text:?}");
    }
}

#[test]
#[should_panic(expected = "Reply::new(999, ..): 999 is not an SMTP reply code")]
fn an_impossible_code_is_the_programs_mistake() {
    let _ = Reply::new(999, "x");
}

#[test]
fn codes_from_outside_are_checked() {
    for code in [0, 199, 600, 999, u16::MAX] {
        assert_eq!(
            Reply::try_new(code, "x").map_err(InvalidReplyCode::value),
            Err(code)
        );
        assert!(std::panic::catch_unwind(|| Reply::multiline(code, ["x"])).is_err());
    }
    assert_eq!(Reply::try_new(250, "a\nb"), Ok(Reply::new(250, "a\nb")));
}

#[test]
fn how_the_text_is_stored_does_not_show() {
    const OK: Reply = Reply::from_static(250, "OK");
    let built = [
        Reply::new(250, "OK"),
        Reply::multiline(250, ["OK"]),
        Reply::from_lines(ReplyCode::new(250).unwrap(), vec!["OK".into()]),
    ];
    for reply in built {
        assert_eq!(reply, OK);
        assert_eq!(format!("{reply:?}"), r#"Reply { code: 250, lines: ["OK"] }"#);
        let hash = |reply: &Reply| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            reply.hash(&mut hasher);
            hasher.finish()
        };
        assert_eq!(hash(&reply), hash(&OK));
    }
    assert_eq!(Reply::multiline(250, Vec::<String>::new()), Reply::new(250, ""));
    assert_eq!(OK.with_enhanced_status("2.0.0").to_wire(), b"250 2.0.0 OK\r\n");
    assert_eq!(
        Reply::new(250, "a\nb").with_enhanced_status("2.0.0").lines(),
        ["2.0.0 a", "2.0.0 b"]
    );
}

#[test]
#[should_panic(expected = "one line only")]
fn a_static_reply_is_one_line() {
    let _ = Reply::from_static(250, "a\nb");
}

#[test]
fn classes() {
    assert!(Reply::new(250, "").is_positive());
    assert!(Reply::new(451, "").is_transient());
    assert!(Reply::new(550, "").is_permanent());
}
