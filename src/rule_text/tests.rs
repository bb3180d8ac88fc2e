//! The text form's tables: triggers, rules spelled and read back.

use super::*;

#[test]
fn triggers() {
    let cases = [
        ("CONNECT", "on::connect()"),
        ("ehlo", "on::helo()"),
        ("MAIL", "on::any_mail_from()"),
        ("mail from:<a@b>", "on::mail_from(\"<a@b>\")"),
        ("RCPT", "on::any_rcpt_to()"),
        ("RCPT TO: x@y", "on::rcpt_to(\"x@y\")"),
        ("DATA", "on::data()"),
        ("message", "on::message()"),
        (".", "on::message()"),
        ("lhlo", "on::helo()"),
        ("MESSAGE TO:b@example.com", "on::delivery_to(\"b@example.com\")"),
        ("xclient", "on::command(\"XCLIENT\")"),
    ];
    for (text, shown) in cases {
        assert_eq!(
            parse_trigger(text).map(|t| t.to_string()),
            Ok(shown.to_string()),
            "{text}"
        );
    }
    for bad in [
        "",
        "MAIL TO:x",
        "RCPT FROM:x",
        "DATA now",
        "two words",
        "RCPT TO:",
        "MESSAGE FROM:a@b",
        "MESSAGE TO:",
    ] {
        assert!(parse_trigger(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn every_spelled_rule_parses_back_to_itself() {
    let texts = [
        (RuleKind::Reply, "RCPT TO:a@b=550 5.1.1 No\\nsuch user"),
        (RuleKind::Reply, "DATA=451 4.3.0 Try later"),
        (RuleKind::Reply, "MESSAGE TO:b@example.com=452 4.2.2 Full"),
        (RuleKind::Reply, "CONNECT=421 busy"),
        (RuleKind::Delay, "MAIL=250ms"),
        (RuleKind::Delay, "MAIL FROM:a@b=2000ms"),
        (RuleKind::Disconnect, "DATA"),
        (RuleKind::Disconnect, "RCPT"),
        (RuleKind::Throttle, "CONNECT=5"),
        (RuleKind::Cut, "MESSAGE=3"),
        (RuleKind::Reset, "XCLIENT"),
        (RuleKind::StopReading, "DATA"),
        (RuleKind::Silence, "CONNECT"),
    ];
    for (kind, text) in texts {
        let (trigger, action) = kind.parse(text).unwrap();
        let (spelled_kind, spelled) = spell(&trigger, &action).unwrap_or_else(|| panic!("{text}"));
        assert_eq!((spelled_kind, spelled.as_str()), (kind, text));
        let (again_trigger, again_action) = spelled_kind.parse(&spelled).unwrap();
        assert_eq!(again_trigger.to_string(), trigger.to_string());
        assert_eq!(again_action, action);
    }
    let raw = Action::raw("25");
    assert_eq!(spell(&crate::on::data(), &raw), None);
    assert_eq!(
        spell(&crate::on::message_matching(|_| true), &Action::disconnect()),
        None
    );
}

#[test]
fn rules() {
    let (_, action) = RuleKind::Reply
        .parse("RCPT TO:a@b=550 5.1.1 No\\nsuch user")
        .unwrap();
    assert_eq!(action, Action::from(Reply::new(550, "5.1.1 No\nsuch user")));
    assert!(RuleKind::Reply.parse("DATA=hello").is_err());
    assert!(RuleKind::Reply.parse("DATA").is_err());
    assert_eq!(
        RuleKind::Delay.parse("MAIL=250ms").unwrap().1,
        Action::delay(Duration::from_millis(250))
    );
    assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
    assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
    assert!(parse_duration("soon").is_err());
    assert!(parse_duration("-1s").is_err());
    assert_eq!(
        RuleKind::Disconnect.parse("DATA").unwrap().1,
        Action::disconnect()
    );
}
