"""Sends, with smtplib, the messages a daily user meets, for the browser
check of the web page.

Usage:
  python3 send_daily.py SMTP_PORT special   a message without From (its only
      recipient in the envelope), an HTML message with a cid: image, and one
      with an RFC 2047 (UTF-8) subject
  python3 send_daily.py SMTP_PORT bulk N    N small messages in one session"""

import smtplib
import struct
import sys
import zlib
from email.header import Header
from email.message import EmailMessage

SUBJECT = "Grüße aus Köln ✓ 日本"


def png_1x1():
    """A valid 1x1 PNG, so that the browser decodes it (naturalWidth 1)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def crlf(message):
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def special(smtp):
    # No From, no To: the recipient is only in the envelope.
    smtp.sendmail(
        "app@example.com",
        ["ann@example.com"],
        b"Subject: No sender\r\nMessage-ID: <nosender@example.com>\r\n\r\nA message without From.\r\n",
    )

    logo = EmailMessage()
    logo["From"] = "Shop <shop@example.com>"
    logo["To"] = "Ann <ann@example.com>"
    logo["Subject"] = "Logo inline"
    logo.set_content("Our logo (HTML only shows it).\n")
    logo.add_alternative(
        '<p>Our logo: <img id="logo" src="cid:logo@shop.test" alt="logo"></p>'
        '<p>Remote: <img id="remote" src="http://127.0.0.1:9/remote.png" alt="remote"></p>'
        '<p>' + "averyveryverylongwordwithoutanyspace" * 6 + "</p>\n",
        subtype="html",
    )
    logo.get_payload()[1].add_related(png_1x1(), maintype="image", subtype="png", cid="<logo@shop.test>")
    smtp.sendmail("shop@example.com", ["ann@example.com"], crlf(logo))

    encoded = EmailMessage()
    encoded["From"] = Header("Jürgen Müller", "utf-8").encode() + " <juergen@example.com>"
    encoded["To"] = "ann@example.com"
    encoded["Subject"] = Header(SUBJECT, "utf-8").encode()
    encoded.set_content("Hallo!\n")
    data = crlf(encoded)
    assert b"=?utf-8?" in data, data
    smtp.sendmail("juergen@example.com", ["ann@example.com"], data)


def bulk(smtp, count):
    for n in range(1, count + 1):
        data = f"From: bulk@example.com\r\nTo: list@example.com\r\nSubject: Bulk {n}\r\n\r\nNumber {n}\r\n"
        smtp.sendmail("bulk@example.com", ["list@example.com"], data.encode())


def main():
    port, what = int(sys.argv[1]), sys.argv[2]
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        if what == "special":
            special(smtp)
        else:
            bulk(smtp, int(sys.argv[3]))


if __name__ == "__main__":
    main()
