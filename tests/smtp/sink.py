"""A real SMTP server for the tests: aiosmtpd (Debian's python3-aiosmtpd) on a free loopback port.

Usage: python3 sink.py DIRECTORY

Prints the port it listens on as its first line, then serves until killed. Each message it
accepts is written, before the server answers 250, as DIRECTORY/NNNN.eml (the bytes received)
and DIRECTORY/NNNN.json: the envelope, and the message as Python's e-mail parser decodes it
(RFC 2047 headers, the body's transfer encoding and charset), so the test checks the text an
e-mail client would show.
"""

import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    def write(self, name, data):
        path = os.path.join(self.directory, name)
        with open(path + ".part", "wb") as file:
            file.write(data)
        os.rename(path + ".part", path)

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = "%04d" % self.count
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        decoded = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "message_id": str(message["Message-ID"]),
            "subject": str(message["Subject"]),
            "content_type": message.get_content_type(),
            "body": message.get_content(),
        }
        self.write(stem + ".eml", envelope.original_content)
        self.write(stem + ".json", json.dumps(decoded, ensure_ascii=False).encode("utf-8"))
        return "250 OK"


async def main(directory):
    loop = asyncio.get_running_loop()
    handler = Sink(directory)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False, enable_SMTPUTF8=True),
        "127.0.0.1",
        0,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
