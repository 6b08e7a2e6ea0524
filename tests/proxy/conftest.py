"""Eager imports for the proxy tests.

pytester restores ``sys.modules`` after every test that uses it, so a module first imported lazily during such a
test (the recorder's yaml and VCR.py serializer) would be imported afresh by the next test while PyYAML's C
extension still holds the first copy's event classes (``EmitterError: expected SCALAR...``). Importing them here,
before any test runs, keeps one copy.
"""

from __future__ import annotations

import vcr.request  # noqa: F401
import vcr.serialize  # noqa: F401
import vcr.serializers.yamlserializer  # noqa: F401
import yaml  # noqa: F401
