"""Every verdict and every lane state has its own colour, told apart also by colour-blind
readers (issue 16): pairwise CIEDE2000 under normal vision and simulated protanopia,
deuteranopia and tritanopia (Machado et al. 2009), read from the shipped stylesheet."""

from __future__ import annotations

import itertools
import re

import pytest
import yaml

from evtxmpio.report.swimlane import STATE_CLASS
from evtxmpio.resources import data_dir
from tests.report.colour import contrast, delta_e2000, difference

STYLE = (data_dir("reports") / "style.css.j2").read_text(encoding="utf-8")
VERDICTS = yaml.safe_load((data_dir("rules") / "verdicts.yaml").read_text(encoding="utf-8"))
VISION = (None, "protanopia", "deuteranopia", "tritanopia")
MIN_DIFFERENCE = 12.0  # CIEDE2000; ~2.3 is a just-noticeable difference, 10+ reads as distinct
VERDICT_COLOURS = dict(re.findall(r"\.verdict-([a-z0-9-]+) \{ --verdict: (#[0-9a-f]{6}); \}",
                                  STYLE))
STATE_COLOURS = dict(re.findall(r"\.st-([a-z-]+) \{ fill: (#[0-9a-f]{6});", STYLE))


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [
    # Sharma, Wu and Dalal (2005), table 1: pairs 1, 7, 17 and 34
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
])
def test_ciede2000_matches_the_published_test_data(lab1: tuple, lab2: tuple,
                                                   expected: float) -> None:
    assert delta_e2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def test_every_verdict_and_state_has_a_colour() -> None:
    assert set(VERDICTS["verdicts"]) <= set(VERDICT_COLOURS)
    assert {f"{css}" for css in STATE_CLASS.values()} | {"other"} <= set(STATE_COLOURS)
    # a path's "removed" is drawn apart from a disk's REMOVED (issue 16)
    assert STATE_CLASS["removed"] != STATE_CLASS["REMOVED"]


@pytest.mark.parametrize("vision", VISION, ids=lambda v: v or "normal")
@pytest.mark.parametrize("palette", ["verdicts", "states"])
def test_colours_stay_apart_for_colour_blind_readers(palette: str, vision: str | None) -> None:
    colours = VERDICT_COLOURS if palette == "verdicts" else STATE_COLOURS
    closest = min((difference(first, second, vision), a, b)
                  for (a, first), (b, second) in itertools.combinations(colours.items(), 2))
    assert closest[0] >= MIN_DIFFERENCE, closest


def test_the_old_verdict_colours_would_fail() -> None:
    """The check can fail: the former all-paths-down and flapping banners (issue 16)."""
    assert difference("#93370d", "#854a0e", "deuteranopia") < MIN_DIFFERENCE


def test_banner_text_is_readable_on_every_verdict_colour() -> None:
    for verdict, colour in VERDICT_COLOURS.items():
        assert contrast(colour, "#ffffff") >= 4.5, verdict
