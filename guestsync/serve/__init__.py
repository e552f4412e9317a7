"""`guestsync serve`: the long-running service around the HTTP app: the worker (in its
own process), the scheduler, the WSGI server and its health checks."""
