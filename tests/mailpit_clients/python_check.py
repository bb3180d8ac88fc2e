"""Mailpit's PyPI client (mailpit-api-client) against smtp-fixture --http:
send with smtplib, then list, read, fetch headers and attachments, mark
unread and delete through the client's own methods.

Usage: venv/bin/python python_check.py SMTP_PORT HTTP_URL
(The client has no search or raw-source method; node_check.mjs covers them.)"""

import json
import subprocess
import sys
from pathlib import Path

import mailpit.client.api as mailpit_api


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print("ok:", what)


def main():
    port, url = sys.argv[1], sys.argv[2]
    here = Path(__file__).parent
    sent = json.loads(subprocess.run([sys.executable, str(here / "send_mail.py"), port], check=True, capture_output=True, text=True).stdout)
    api = mailpit_api.API(url, timeout=10)

    listed = api.get_messages()
    subjects = [m.subject for m in listed.messages]
    check(subjects == ["Invoice 42", "Welcome Ann"], f"get_messages lists newest first: {subjects}")
    check(listed.total == 2 and listed.count == 2, "get_messages totals")
    invoice_summary = listed.messages[0]
    check(invoice_summary.from_.address == "shop@example.com" and invoice_summary.from_.name == "Shop", "summary From")
    check([c.address for c in invoice_summary.to] == ["bob@example.com"], "summary To")

    invoice = api.get_message(invoice_summary.id)
    check(invoice.subject == "Invoice 42", "get_message subject")
    check(invoice.message_id == "invoice42@example.com", "get_message MessageID")
    check(invoice.text.startswith("Your invoice is attached."), "get_message Text")
    check([a.file_name for a in invoice.attachments] == ["invoice.pdf"], "get_message Attachments")
    attachment = invoice.attachments[0]
    check(attachment.content_type == "application/pdf" and attachment.size == len(sent["invoice"]), "attachment type and size")
    content = api.get_message_attachment(invoice.id, attachment.part_id)
    check(content == sent["invoice"], "get_message_attachment returns the attached bytes")

    welcome = api.get_message(listed.messages[1].id)
    check("confirm?token=t1" in welcome.html, "get_message HTML")

    headers = api.get_message_headers(invoice.id)
    check(headers.message_id == ["<invoice42@example.com>"], "get_message_headers Message-Id")
    check(headers.delivered_to == ["bob@example.com"], "get_message_headers Delivered-To")

    check(all(m.read for m in api.get_messages().messages), "reading marks read")
    api.put_messages([invoice.id], "Read", False)
    read = {m.id: m.read for m in api.get_messages().messages}
    check(read[invoice.id] is False and read[welcome.id] is True, "put_messages marks one unread")

    api.delete_messages([welcome.id])
    remaining = [m.subject for m in api.get_messages().messages]
    check(remaining == ["Invoice 42"], f"delete_messages deletes the one named: {remaining}")
    api.delete_messages([])
    check(api.get_messages().total == 0, "delete_messages([]) deletes all")
    print("python_check: all passed")


if __name__ == "__main__":
    main()
