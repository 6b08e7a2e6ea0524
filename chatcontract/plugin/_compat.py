"""Compatibility shims between the libraries the plugin drives (loaded only where a shim is needed).

pytest 9.2 replaced the private string attribute ``Node._nodeid`` with a structured ``Node._id``
(``_pytest.nodeid.NodeId``; ``Node.nodeid`` is now a property deriving the string from it). schemathesis 4.32.5's
``schemathesis.pytest.from_fixture`` still reads and rewrites ``request.node._nodeid`` to name each API operation in
the report (``test_api[POST /chat/completions]``), so every ``@schema.parametrize()`` test fails on pytest 9.2 with
``AttributeError: 'Function' object has no attribute '_nodeid'``. :func:`restore_private_nodeid` gives ``Node``
back a ``_nodeid`` property reading and writing ``_id``, with the same meaning the attribute had up to pytest 9.1.
It installs nothing on a pytest that still has the attribute (or lacks ``_id``), so it is inert once either side
changes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["restore_private_nodeid"]


def restore_private_nodeid() -> bool:
    """Give ``_pytest.nodes.Node`` a ``_nodeid`` property on pytest >= 9.2; True when it was installed now."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest <= 9.1: Node sets the attribute itself
        return False
    from _pytest.nodes import Node

    if hasattr(Node, "_nodeid"):  # already installed, or pytest brought it back
        return False

    def get(node: Any) -> str:
        return str(node._id)

    def set_(node: Any, value: str) -> None:
        node._id = value if isinstance(value, NodeId) else NodeId.parse(str(value))

    Node._nodeid = property(get, set_, doc="pytest <= 9.1's private string node id (see chatcontract.plugin._compat).")  # type: ignore[attr-defined]
    return True
