"""A real SMTP server for the tests: aiosmtpd on a loopback port, writing each message to a
folder as <n>.eml with a <n>.json envelope. Optional STARTTLS (cert, key) and AUTH.
Usage: smtp_sink.py PORT OUTDIR [CERT KEY USER PASSWORD]. Runs until stdin closes."""
import json, os, ssl, sys, itertools
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, outdir = int(sys.argv[1]), sys.argv[2]
cert = sys.argv[3:7] if len(sys.argv) >= 7 else None
counter = itertools.count(1)


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        base = os.path.join(outdir, f"{n:04}")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
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
controller = Controller(Sink(), hostname="127.0.0.1", port=port, **kwargs)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
