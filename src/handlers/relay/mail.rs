//! The `MAIL FROM` line a proxy sends upstream.

use crate::client::Extensions;

/// `MAIL FROM:<address>` with the client's parameters that the upstream
/// announced: `BODY=` with 8BITMIME, `SMTPUTF8` with SMTPUTF8, and `SIZE=`
/// (`size`, when known) with SIZE. Anything else is dropped: the session
/// refuses parameters it does not know, so nothing else gets here.
pub(crate) fn mail_command(
    address: &str,
    options: &[String],
    upstream: Extensions,
    size: Option<u64>,
) -> String {
    let mut line = if address == "<>" {
        "MAIL FROM:<>".to_string()
    } else {
        format!("MAIL FROM:<{address}>")
    };
    for option in options {
        let passed = (option.starts_with("BODY=") && upstream.eight_bit_mime)
            || (option == "SMTPUTF8" && upstream.smtputf8);
        if passed {
            line.push(' ');
            line.push_str(option);
        }
    }
    if let Some(size) = size.filter(|_| upstream.size) {
        line.push_str(&format!(" SIZE={size}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_parameters_follow_the_upstream() {
        let options = [
            "BODY=8BITMIME".to_string(),
            "SMTPUTF8".to_string(),
            "SIZE=5".to_string(),
        ];
        let none = Extensions::default();
        assert_eq!(mail_command("a@b", &options, none, Some(9)), "MAIL FROM:<a@b>");
        let all = Extensions {
            eight_bit_mime: true,
            smtputf8: true,
            size: true,
        };
        assert_eq!(
            mail_command("<>", &options, all, Some(9)),
            "MAIL FROM:<> BODY=8BITMIME SMTPUTF8 SIZE=9"
        );
        assert_eq!(mail_command("a@b", &[], all, None), "MAIL FROM:<a@b>");
    }
}
