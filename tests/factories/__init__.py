"""Test factories and helpers, one module per app (plus ``media`` for generated images and video), all
re-exported here: tests import from ``tests.factories``.

Models are built with factory_boy where the row is the point (``CaseFactory``, ``UserFactory`` …); where a
test needs what a service leaves behind (a stored item with its custody events, an exhibit taken to
"shared"), the helper goes through the real vault or service instead.
"""

from tests.factories.access import *  # noqa: F403
from tests.factories.detection import *  # noqa: F403
from tests.factories.evidence import *  # noqa: F403
from tests.factories.exhibits import *  # noqa: F403
from tests.factories.media import *  # noqa: F403
from tests.factories.parties import *  # noqa: F403
from tests.factories.search import *  # noqa: F403
from tests.factories.sources import *  # noqa: F403
from tests.factories.support import *  # noqa: F403
