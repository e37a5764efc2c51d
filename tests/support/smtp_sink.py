"""A real SMTP server for the tests: aiosmtpd on a loopback port, writing each message to a
folder as <n>.eml with a <n>.json envelope. Optional STARTTLS (cert, key) and AUTH.
Usage: smtp_sink.py PORT OUTDIR [CERT KEY USER PASSWORD]. Runs until stdin closes. With PORT 0
the sink binds a free port itself; once it accepts connections it prints "ready PORT".
Each connection that greets (EHLO/HELO) adds a line to OUTDIR/connections. With SMTP_SINK_DROP_EVERY=N the server
hangs up (421) at the next MAIL after N messages on one connection, as relays that limit
messages per connection do. With SMTP_SINK_INDEX=1 (for volume tests) a message is not written
out: one line of OUTDIR/index holds its envelope recipients and its Message-ID, which is all
such a test reads, so the sink keeps up with the client."""
import json, os, ssl, sys, itertools
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

port, outdir = int(sys.argv[1]), sys.argv[2]
cert = sys.argv[3:7] if len(sys.argv) >= 7 else None
counter = itertools.count(1)
drop_every = int(os.environ.get("SMTP_SINK_DROP_EVERY", "0"))
index = open(os.path.join(outdir, "index"), "a") if os.environ.get("SMTP_SINK_INDEX") == "1" else None
counting = False


class CountingSMTP(SMTP):
    """Counts the connections that say EHLO or HELO (not the port probes of the tests)."""

    async def smtp_EHLO(self, hostname):
        self._count()
        return await super().smtp_EHLO(hostname)

    async def smtp_HELO(self, hostname):
        self._count()
        return await super().smtp_HELO(hostname)

    def _count(self):
        if counting and not getattr(self, "counted", False):
            self.counted = True
            with open(os.path.join(outdir, "connections"), "a") as f:
                f.write("1\n")


class CountingController(Controller):
    def _trigger_server(self):
        # Bound by now: learn the port the system chose before the readiness probe uses it.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


class Sink:
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if drop_every and getattr(session, "messages", 0) >= drop_every:
            await server.push("421 4.7.0 too many messages on this connection")
            server.transport.close()
            return "421 4.7.0 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if index is not None:
            head = (envelope.original_content or envelope.content).split(b"\r\n\r\n", 1)[0]
            ids = [l.split(b":", 1)[1].strip().decode() for l in head.split(b"\r\n")
                   if l[:11].lower() == b"message-id:"]
            index.write(json.dumps({"to": envelope.rcpt_tos, "id": ids[0] if ids else None}) + "\n")
            index.flush()
            session.messages = getattr(session, "messages", 0) + 1
            return "250 Message accepted"
        n = next(counter)
        base = os.path.join(outdir, f"{n:04}")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        session.messages = getattr(session, "messages", 0) + 1
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        cert is not None
        and isinstance(auth_data, LoginPassword)
        and auth_data.login == cert[2].encode()
        and auth_data.password == cert[3].encode()
    )
    # handled=False: aiosmtpd answers for us (a wrong password must not hang).
    return AuthResult(success=ok, handled=False)


kwargs = {}
if cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert[0], cert[1])
    kwargs = dict(tls_context=ctx, require_starttls=True, authenticator=authenticator, auth_require_tls=True)
controller = CountingController(Sink(), hostname="127.0.0.1", port=port, **kwargs)
controller.start()
counting = True
print(f"ready {controller.port}", flush=True)
sys.stdin.read()
controller.stop()
