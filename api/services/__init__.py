"""The service layer: one module per resource, called by the API's routers and the web pages alike.

Each module holds its resource's queries and the rules that go with them, once:

* **scoping**: a school user sees only its own school (``api.services.scope``); another school's
  objects raise ``NotFound``, the same answer as a missing one, so that ids do not leak;
* **the personal-field policy** (``api.services.households``): the fields of
  ``ftthnoc.personal.PERSONAL_FIELDS``, disclosed only to the roles of ``api.security.PERSONAL_ROLES``,
  and every disclosure written to the audit log (``api.services.audit.record_personal_read``) by the
  same call that read them.

Who may call what is not decided here but by the one access table (``api.routes_access``), which the
``authorize`` dependency checks before a router or a page runs. Services take a SQLAlchemy session and
the caller (``api.security.Principal``) and return plain records; they know nothing of HTTP: failures are
the exceptions of ``api.services.common`` (``NotFound``, ``Conflict``, ...), which the edge turns into a
JSON problem (``/api``) or an error page.
"""
