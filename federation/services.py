"""The index of the federation's writes, for callers outside the app (commands, tests): each
lives in its domain (``federation.<domain>.services``), and domains call each other's there.
A domain names its writes in its ``__all__``; this index is their union, so a write added to a
domain needs no second listing here."""

from federation.agreements import services as _agreements
from federation.agreements.services import *  # noqa: F403
from federation.campaigns import services as _campaigns
from federation.campaigns.services import *  # noqa: F403
from federation.coins import services as _coins
from federation.coins.services import *  # noqa: F403
from federation.enrollment import services as _enrollment
from federation.enrollment.services import *  # noqa: F403
from federation.holdouts import services as _holdouts
from federation.holdouts.services import *  # noqa: F403
from federation.metrics import services as _metrics
from federation.metrics.services import *  # noqa: F403
from federation.overlap import services as _overlap
from federation.overlap.services import *  # noqa: F403
from federation.referrals import services as _referrals
from federation.referrals.services import *  # noqa: F403

__all__: list[str] = []
__all__ += _agreements.__all__
__all__ += _campaigns.__all__
__all__ += _coins.__all__
__all__ += _enrollment.__all__
__all__ += _holdouts.__all__
__all__ += _metrics.__all__
__all__ += _overlap.__all__
__all__ += _referrals.__all__
