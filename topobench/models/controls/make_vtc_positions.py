"""Make ``positions/vtc_human_layout.npz`` of the VTC control again: ``python -m
topobench.models.controls.make_vtc_positions`` (records efficientnet-lite0-imagenet on the
fitting images of ``vtc_layout.fitting_stimuli``; a few minutes on 2 CPU cores)."""
from topobench.models.controls.vtc_layout import POSITIONS_FILE, make_positions

if __name__ == "__main__":
    made = make_positions()
    print(f"wrote {POSITIONS_FILE}: {made.provenance['region_counts']}")
