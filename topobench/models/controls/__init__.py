"""Controls: registered models whose maps have known answers (family ``controls``).

They are scored like any model and shown on the leaderboard beside the models,
but never ranked or aggregated; ``topobench validity`` scores every topography
benchmark on them (``leaderboard/validity.json``, the site's validity page).

V1 (``v1_gabor``): Gabor-filter units with band-limited orientation, SF and
colour maps at the unit density of a ResNet-18 ``layer2.0`` at 224 px and
64 px, their shuffled twins, a salt-and-pepper and a constant map. VTC
(``vtc_layout``): the VTC units of ``efficientnet-lite0-imagenet`` laid out in
the human arrangement of category-selective patches, and its shuffled twin.

Each factory carries ``family = "controls"`` and ``kind`` (what it controls
for), so that the leaderboard can tell controls from models without building
them; each built model carries ``family`` too.
"""
from topobench.registry import model_registry

FAMILY = "controls"

#: identifier -> (kind, what it is): kind is 'positive', 'shuffled', 'salt-and-pepper' or 'constant'
CONTROLS: dict[str, dict] = {}


def _factory(identifier: str, build, kind: str, region: str, twin_of: str | None = None):
    def factory():
        return build()
    factory.family = FAMILY
    factory.kind = kind
    factory.region = region
    factory.twin_of = twin_of
    factory.__name__ = f"build_{identifier.replace('-', '_')}"
    factory.__doc__ = f"The control {identifier} ({kind}, {region})."
    CONTROLS[identifier] = {"kind": kind, "region": region, "twin_of": twin_of}
    model_registry[identifier] = factory
    return factory


def _register() -> None:
    from functools import partial

    from topobench.models.controls import v1_gabor, vtc_layout
    for size in (224, 64):
        positive = v1_gabor.identifier_for("bandlimited", size)
        _factory(positive, partial(v1_gabor.build, "bandlimited", size), "positive", "V1")
        _factory(v1_gabor.identifier_for("shuffled", size), partial(v1_gabor.build, "shuffled", size),
                 "shuffled", "V1", twin_of=positive)
    _factory(v1_gabor.identifier_for("salt-and-pepper"), partial(v1_gabor.build, "salt-and-pepper", 224),
             "salt-and-pepper", "V1")
    _factory(v1_gabor.identifier_for("constant"), partial(v1_gabor.build, "constant", 224), "constant", "V1")
    _factory(vtc_layout.IDENTIFIER, vtc_layout.build, "positive", "VTC")
    _factory(vtc_layout.SHUFFLED_IDENTIFIER, vtc_layout.build_shuffled, "shuffled", "VTC",
             twin_of=vtc_layout.IDENTIFIER)


_register()
