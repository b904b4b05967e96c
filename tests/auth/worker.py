"""One process serving the app on a loopback port, as one gunicorn worker would: tests that need two workers
sharing one database start two of these. ``python -m tests.auth.worker DATABASE_URL LOGIN_RATE_LIMIT`` prints
the port, then serves until it is terminated."""

import sys

from werkzeug.serving import WSGIRequestHandler, make_server

from crm import create_app


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


def main() -> None:
    database_url, login_rate_limit = sys.argv[1:3]
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, LOGIN_RATE_LIMIT=login_rate_limit)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
