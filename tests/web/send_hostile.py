"""Sends, with smtplib, an HTML message whose script must never run in the
web page. Usage: python3 send_hostile.py SMTP_PORT"""

import smtplib
import sys

HTML = (
    "<p id=shown>Hello</p>"
    "<script>window.ranInMessage = 1; document.getElementById('shown').textContent = 'script ran'</script>"
)
DATA = (
    "From: evil@example.com\r\nTo: ann@example.com\r\nSubject: Hostile\r\n"
    "Content-Type: text/html\r\n\r\n" + HTML + "\r\n"
)

with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as smtp:
    smtp.sendmail("evil@example.com", ["ann@example.com"], DATA)
