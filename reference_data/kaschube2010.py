"""Pinwheel density of orientation maps: about pi per squared column spacing.

Kaschube, M., Schnabel, M., Löwel, S., Coppola, D. M., White, L. E. & Wolf, F.
(2010). Universality in the evolution of orientation columns in the visual
cortex. Science 330(6007):1113-1116. https://doi.org/10.1126/science.1194869

Orientation maps of three species whose lineages separated more than 65
million years ago (tree shrew, galago, ferret) have statistically
indistinguishable layouts, with a pinwheel density (pinwheels per squared
column spacing, i.e. per hypercolumn area) close to pi; in the authors' reply
to a comment (Kaschube et al. 2012, Science 336:413,
https://doi.org/10.1126/science.1206416) the species' statistics agree "with
an accuracy of a few percent". pi is also the density that band-limited random
maps approach (Wolf & Geisel 1998, Nature 395:73), so a density of pi alone
does not show a cortex-like map: the benchmark asks for a real spectral peak and
real smoothness first.

No macaque number is used: the reference is the cross-species value, a number
from a paper, not data with a reliability (DESIGN.md, "Score semantics").
"""
import math

#: Pinwheels per squared column spacing (Kaschube et al. 2010).
PINWHEEL_DENSITY = math.pi
CITATION = ("Kaschube et al. (2010) Science 330:1113-1116, doi:10.1126/science.1194869: pinwheel density "
            "close to pi pinwheels per squared column spacing in tree shrew, galago and ferret")
