"""One module per page a person opens (its GET and the POSTs of its forms); ``api.web.routes.install``
includes every module here — its ``router`` (``page_router()``) and its ``TASK_PAGES``."""
