"""Serve the django-scim2 project on 127.0.0.1: python3 serve.py PORT TOKEN DBPATH.

PORT 0 picks a free port. Migrates DBPATH (a fresh SQLite file is an empty provider), then
prints "Serving SCIM on http://127.0.0.1:PORT/scim/v2" and serves with a threaded WSGI server,
one log line per request on stderr."""
import os
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Handler(WSGIRequestHandler):
    def address_string(self):
        return self.client_address[0]


def main():
    port, token, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    # Bind first: the port is known before the settings are read.
    server = make_server("127.0.0.1", port, None, ThreadingServer, Handler)
    port = server.server_address[1]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="settings",
        SCIM_TOKEN=token,
        SCIM_DB=db,
        SCIM_NETLOC=f"127.0.0.1:{port}",
    )
    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    server.set_app(get_wsgi_application())
    print(f"Serving SCIM on http://127.0.0.1:{port}/scim/v2", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
