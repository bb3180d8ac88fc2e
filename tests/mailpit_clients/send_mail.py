"""Sends the checks' messages to smtp-fixture with smtplib; prints, as JSON,
what was sent (for the checks to compare with what the API returns).

Usage: python3 send_mail.py SMTP_PORT"""

import json
import smtplib
import sys
from email.message import EmailMessage
from email.utils import formatdate

INVOICE = b"%PDF-1.4 invoice 42\n"


def messages():
    welcome = EmailMessage()
    welcome["From"] = "Shop <shop@example.com>"
    welcome["To"] = "Ann <ann@example.com>"
    welcome["Subject"] = "Welcome Ann"
    welcome["Date"] = formatdate(localtime=False)
    welcome["Message-ID"] = "<welcome@example.com>"
    # The PyPI client's Headers model requires a Delivered-To header.
    welcome["Delivered-To"] = "ann@example.com"
    welcome.set_content("Hello Ann, confirm at https://shop.test/confirm?token=t1\n")
    welcome.add_alternative('<p>Hello Ann, <a href="https://shop.test/confirm?token=t1">confirm</a></p>\n', subtype="html")

    invoice = EmailMessage()
    invoice["From"] = "Shop <shop@example.com>"
    invoice["To"] = "Bob <bob@example.com>"
    invoice["Subject"] = "Invoice 42"
    invoice["Date"] = formatdate(localtime=False)
    invoice["Message-ID"] = "<invoice42@example.com>"
    invoice["Delivered-To"] = "bob@example.com"
    invoice.set_content("Your invoice is attached.\n")
    invoice.add_attachment(INVOICE, maintype="application", subtype="pdf", filename="invoice.pdf")
    return [welcome, invoice]


def main():
    port = int(sys.argv[1])
    sent = []
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for message in messages():
            data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
            smtp.sendmail("shop@example.com", [message["To"].addresses[0].addr_spec], data)
            sent.append({"Subject": message["Subject"], "Raw": data.decode()})
    print(json.dumps({"sent": sent, "invoice": INVOICE.decode()}))


if __name__ == "__main__":
    main()
