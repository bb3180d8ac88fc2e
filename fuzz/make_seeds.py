#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/ (the reproducers of issue 19
among them). Run from anywhere: python3 fuzz/make_seeds.py

The session target's format is described in src/session_input.rs; the
helpers below build it, as they do the proxy_header target's. Seeds of
the `arbitrary`-based targets (auth, reply_command, bdat, search_query)
are not written here: they come from short runs (cmin).
"""
import base64
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SEGMENT_END = b"\xfd"

# Config byte 0 flags.
SMTPUTF8, DECODE_DATA, ENHANCED, REQUIRE_AUTH, STARTTLS, REQUIRE_TLS, AUTH_REQUIRES_TLS, NO_PIPELINING = (1 << n for n in range(8))
# Config byte 1 mechanisms (low bits).
PLAIN, LOGIN, CRAM_MD5, XOAUTH2 = 1, 2, 4, 8
# Indexes into the tables of session_input.rs.
SIZE_DEFAULT, SIZE_NONE, SIZE_1, SIZE_10, SIZE_100, SIZE_1K, SIZE_64K, SIZE_1M, SIZE_USIZE_MAX = range(9)
COMMAND_512, COMMAND_513, COMMAND_600, COMMAND_1000, COMMAND_12288, COMMAND_20000, COMMAND_USIZE_MAX = range(7)


def repeat(byte, count):
    """`count` copies of one byte."""
    out = b""
    while count > 0:
        run = min(count, 65535)
        out += b"\xfe" + struct.pack("<H", run) + byte
        count -= run
    return out


def session(flags=0, mechanisms=0, invalid=0, size=SIZE_DEFAULT, command=COMMAND_512, recipients=0,
            decisions=(), reads=(), stream=b""):
    """decisions: (kind, choice) pairs; reads: (size, in_place, extra_room);
    invalid, recipients: indexes into the tables of session_input.rs."""
    out = bytes([flags, mechanisms | invalid << 4, size, command, recipients, 0])
    out += bytes([len(decisions)]) + b"".join(bytes([k, c]) for k, c in decisions)
    out += bytes([len(reads)])
    out += b"".join(struct.pack("<H", n) + bytes([int(in_place) | extra << 1]) for n, in_place, extra in reads)
    return out + stream


TRANSACTION = b"EHLO client\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
WHOLE_IN_PLACE = [(0, True, 0)]

SESSION = {
    # Issue 19, 1: 100 KB of DATA, then "end\r", a pause (the read in place
    # ends there), then "\n.\r\n": the terminator must be seen, the next
    # MAIL is a command.
    "repro-held-back-cr-100k": session(
        reads=WHOLE_IN_PLACE,
        stream=TRANSACTION + SEGMENT_END + repeat(b"x", 102400) + b"end\r" + SEGMENT_END
        + b"\n.\r\nMAIL FROM:<c@example.com>\r\nQUIT\r\n"),
    "repro-held-back-cr-small": session(
        reads=WHOLE_IN_PLACE,
        stream=TRANSACTION + SEGMENT_END + b"end\r" + SEGMENT_END + b"\n.\r\nQUIT\r\n"),
    # The same cause: a stuffed dot right after the split is kept.
    "repro-stuffed-dot-after-split": session(
        reads=WHOLE_IN_PLACE,
        stream=TRANSACTION + SEGMENT_END + b"a\r" + SEGMENT_END + b"\n..y\r\n.\r\nQUIT\r\n"),
    # Issue 19, 2: AUTH LOGIN, a 100 KB response line in pieces, then NOOP.
    "repro-auth-login-long-line-in-pieces": session(
        mechanisms=LOGIN, reads=[(4096, False, 0)],
        stream=b"EHLO client\r\nAUTH LOGIN\r\n" + repeat(b"A", 102400) + b"\r\nNOOP\r\nNOOP\r\n"),
    # Issue 19, 3: a 596-byte AUTH PLAIN initial response; a 1 512-byte
    # XOAUTH2 line.
    "repro-auth-plain-596": session(
        mechanisms=PLAIN,
        stream=b"EHLO client\r\nAUTH PLAIN " + base64.b64encode(b"\0ann\0" + b"p" * 442) + b"\r\nNOOP\r\n"),
    "repro-auth-xoauth2-1512": session(
        mechanisms=XOAUTH2,
        stream=b"EHLO client\r\nAUTH XOAUTH2 "
        + base64.b64encode(b"user=ann@example.com\x01auth=Bearer " + b"t" * 1091 + b"\x01\x01") + b"\r\nNOOP\r\n"),
    # Issue 19, 4: a huge declared SIZE (no limit; and the default limit).
    "repro-huge-size-no-limit": session(
        size=SIZE_NONE,
        stream=b"EHLO client\r\nMAIL FROM:<a@example.com> SIZE=18446744073709551615\r\n"
        b"RCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"),
    "repro-size-at-the-limit": session(
        stream=b"EHLO client\r\nMAIL FROM:<a@example.com> SIZE=33554432\r\n"
        b"RCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"),
    # Issue 19, 5 and 6 (caught by address_params; here for coverage).
    "repro-quoted-pair-vt": session(stream=b'EHLO client\r\nMAIL FROM:<"a\\\x0bb"@example.com>\r\nQUIT\r\n'),
    "repro-address-literal-gt": session(stream=b"HELO client\r\nMAIL FROM:a@[>]\r\nMAIL FROM:<a@[>]>\r\nQUIT\r\n"),
    # Issue 19, 7: limits that overflow when added to.
    "repro-size-limit-usize-max": session(size=SIZE_USIZE_MAX, stream=TRANSACTION + b"25 bytes of message text\r\n.\r\n"),
    "repro-command-limit-usize-max": session(command=COMMAND_USIZE_MAX, stream=b"EHLO client\r\nNOOP\r\n"),
    # The rest: the dialogue's paths, for coverage.
    "transaction-pipelined-by-7": session(
        reads=[(7, False, 0)],
        stream=TRANSACTION + b"Subject: hi\r\n\r\n..dot\r\n.x\r\na\n.\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n"),
    "transaction-in-place-by-3": session(
        reads=[(3, True, 5), (1, True, 0), (11, False, 0)],
        stream=TRANSACTION + b"line\r\n..\r\n.\r\n\r\n.\r\nDATA\r\nQUIT\r\n"),
    "two-messages-helo": session(
        stream=b"HELO client\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n"
        b"one\r\n.\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<postmaster>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n"),
    "decisions": session(
        decisions=[(0, 0), (4, 13), (4, 2), (7, 1), (0, 0), (6, 1)],
        stream=TRANSACTION + b"x\r\n.\r\nMAIL FROM:<a@example.com>\r\nNOOP\r\n"),
    "message-refused-then-disconnect": session(
        decisions=[(0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (5, 14), (6, 0)],
        stream=TRANSACTION + b"x\r\n.\r\nNOOP\r\n"),
    "size-limit-100-too-much-data": session(
        size=SIZE_100, reads=[(16, True, 0)],
        stream=b"EHLO client\r\nMAIL FROM:<a@example.com> SIZE=50\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
        + b"y" * 200 + b"\r\n.\r\nMAIL FROM:<a@example.com> SIZE=101\r\nQUIT\r\n"),
    "decode-data-not-utf8": session(
        flags=DECODE_DATA, stream=TRANSACTION + b"\xc3\x28\r\n.\r\nMAIL FROM:<a@example.com> BODY=8BITMIME\r\nQUIT\r\n"),
    "smtputf8": session(
        flags=SMTPUTF8 | ENHANCED,
        stream="EHLO client\r\nMAIL FROM:<ä@example.com> SMTPUTF8 BODY=8BITMIME\r\nRCPT TO:<ü@exämple.com>\r\n"
        "DATA\r\nSubject: ü\r\n\r\n.\r\nMAIL FROM:<ö@example.com>\r\nQUIT\r\n".encode()),
    "starttls": session(
        flags=STARTTLS | REQUIRE_TLS | AUTH_REQUIRES_TLS, mechanisms=PLAIN,
        stream=b"EHLO client\r\nMAIL FROM:<a@example.com>\r\nSTARTTLS\r\nNOOP injected\r\n" + SEGMENT_END
        + b"EHLO client\r\nAUTH PLAIN " + base64.b64encode(b"\0ann\0pw") + b"\r\nSTARTTLS\r\nQUIT\r\n"),
    "auth-all-mechanisms": session(
        flags=REQUIRE_AUTH | ENHANCED, mechanisms=PLAIN | LOGIN | CRAM_MD5 | XOAUTH2,
        stream=b"EHLO client\r\nMAIL FROM:<a@example.com>\r\nAUTH LOGIN\r\n" + base64.b64encode(b"ann") + b"\r\n*\r\n"
        b"AUTH CRAM-MD5\r\n" + base64.b64encode(b"ann 0123456789abcdef0123456789abcdef") + b"\r\n"
        b"AUTH NONE\r\nAUTH PLAIN\r\n=\r\nAUTH XOAUTH2 " + base64.b64encode(b"user=a\x01auth=Bearer t\x01\x01") + b"\r\n"
        b"MAIL FROM:<a@example.com>\r\nQUIT\r\n"),
    "errors-and-help": session(
        flags=ENHANCED, command=COMMAND_600,
        stream=b"MAIL FROM:<a@b>\r\nHELP\r\nHELP mail\r\nHELP nothing\r\nVRFY <a@b>\r\nVRFY\r\nEXPN list\r\n"
        b"\r\nBOGUS\r\nNOOP x\r\nnul\x00\r\n\xff\xfe\r\nHELO\r\nEHLO client\r\nEHLO again\r\nRCPT TO:<a@b>\r\n"
        b"MAIL FROM:<a@b> BODY=9BIT\r\nMAIL FROM:<a@b> SMTPUTF8=x\r\nMAIL FROM:<a@b> SIZE=x\r\nMAIL FROM:<a@b> X-Y=1\r\n"
        b"MAIL FROM:<a b@c>\r\nDATA\r\n" + b"L" * 700 + b"\r\nQUIT\r\n"),
    "too-many-errors-3": session(invalid=3, stream=b"x\r\n" * 6),
    "recipient-limit-2": session(
        recipients=3,
        stream=b"HELO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nRCPT TO:<c@d>\r\nRCPT TO:<d@e>\r\nRCPT TO:<>\r\n"
        b"RCPT TO:<e@f> NOTIFY=NEVER\r\nQUIT\r\n"),
    # BDAT (RFC 3030): chunks in any sizes, pipelined, in place, refused,
    # past the limit, mixed with DATA and RSET.
    "bdat-chunks-pipelined": session(
        reads=[(5, False, 0)],
        stream=b"EHLO client\r\nMAIL FROM:<a@example.com> BODY=BINARYMIME\r\nRCPT TO:<b@example.com>\r\n"
        b"BDAT 7\r\nline\r\n.BDAT 0\r\nBDAT 5 LAST\r\n..\r\n\x00QUIT\r\n"),
    "bdat-in-place": session(
        reads=[(3, True, 5), (0, True, 0)],
        stream=b"EHLO client\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nBDAT 70000 LAST\r\n"
        + SEGMENT_END + repeat(b"z", 70000) + b"NOOP\r\n"),
    "bdat-refused-and-errors": session(
        size=SIZE_100, decisions=[(0, 0), (0, 0), (0, 0), (0, 0), (4, 2)],
        stream=b"BDAT 4\r\nNOOPEHLO client\r\nBDAT 2 LAST\r\nxyMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
        b"BDAT 3 NOW\r\nabcBDAT\r\nBDAT 60\r\n" + b"x" * 60 + b"DATA\r\nRCPT TO:<e@f>\r\nBDAT 41\r\n"
        + b"y" * 41 + b"BDAT 1 LAST\r\nzRSET\r\nQUIT\r\n"),
}

ADDRESS_PARAMS = {
    "repro-quoted-pair-vt": b'"a\\\x0bb"@example.com',
    "repro-quoted-pair-vt-bracketed": b'<"a\\\x0bb"@example.com>',
    "repro-address-literal-gt": b"a@[>]",
    "repro-huge-size": b"SIZE=99999999999999999999999 BODY=8BITMIME",
    "plain": b"<ann@example.com> SIZE=100",
    "null": b"<>",
    "quoted": b'<"Fred \\"Blogs\\""@example.com>',
    "route": b"<@relay1,@relay2:user@example.com>",
    "literal-v6": b"<a@[IPv6:::1]> SMTPUTF8",
    "utf8": "<naïve@examplé>".encode(),
    "params": b"size=20 body=8bitmime X-FOO=bar SMTPUTF8",
}


# proxy_header: byte 0 bit 0 fixes up a v2 header's length (and a CRC32C
# TLV), byte 1 is the read size (0: every prefix of a short input), byte 2
# how many bytes follow the header; then the bytes the connection receives.
V2_SIG = b"\r\n\r\n\0\r\nQUIT\n"
CLIENT = b"EHLO client\r\n"


def proxy(stream, fix_up=False, step=0, trailing=0):
    return bytes([int(fix_up), step, trailing]) + stream


def v2(command, family, block):
    return V2_SIG + bytes([0x20 | command, family]) + struct.pack(">H", len(block)) + block


PROXY_HEADER = {
    "v1-tcp4": proxy(b"PROXY TCP4 192.0.2.7 198.51.100.1 40123 25\r\n" + CLIENT),
    "v1-tcp6-mapped": proxy(b"PROXY TCP6 ::ffff:192.0.2.7 2001:db8::1 65535 0\r\n" + CLIENT),
    "v1-unknown": proxy(b"PROXY UNKNOWN whatever follows\r\n" + CLIENT),
    "v1-longest": proxy(b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535 ".ljust(105, b"x") + b"\r\n"),
    "v1-bare-lf": proxy(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
    "v1-leading-zero": proxy(b"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"),
    "v2-local": proxy(v2(0, 0, b"") + CLIENT),
    "v2-tcp4": proxy(v2(1, 0x11, bytes([192, 0, 2, 7, 198, 51, 100, 1]) + struct.pack(">HH", 40123, 25)) + CLIENT, step=5),
    "v2-tcp6-crc32c": proxy(
        v2(1, 0x21, bytes(range(32)) + struct.pack(">HH", 1, 2) + b"\x03\x00\x04\0\0\0\0" + b"\x05\x00\x02id") + CLIENT,
        fix_up=True, trailing=len(CLIENT)),
    "v2-udp4": proxy(v2(1, 0x12, bytes(12))),
    "v2-unix": proxy(v2(1, 0x31, bytes(216))),
    "v2-unspec": proxy(v2(1, 0x00, b"anything")),
    "v2-bad-version": proxy(V2_SIG + b"\x11\x11\x00\x0c"),
    "v2-tlv-past-end": proxy(v2(1, 0x11, bytes(12) + b"\x01\x00\x09ab")),
    "not-proxy": proxy(CLIENT),
}


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("session", SESSION)
    write("address_params", ADDRESS_PARAMS)
    write("proxy_header", PROXY_HEADER)
