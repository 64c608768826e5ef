"""Checks an NWB file written by Ephys with the tools neuroscientists use.

Usage: check_nwb.py RUN.nwb [RESPONSES.npy [UNITS...]]

1. pynwb's validator (against pynwb's NWB core schema: Ephys does not cache the schema in the file).
2. pynwb reads it: trials, units, the responses TimeSeries and the stimulus ImageSeries.
3. pynapple loads it (nap.load_file): trials as an IntervalSet, responses as a TsdFrame.
4. With RESPONSES.npy: the listed unit columns (default: first, middle and last unit) of the
   TsdFrame equal responses.npy exactly, trial by trial ([stimuli, 2, units] -> [trials, units]).
Prints one JSON line with what it found; exits 1 on any failure.
"""
import json
import sys

import numpy as np
import pynapple as nap
import pynwb
from pynwb import NWBHDF5IO


def main():
    path = sys.argv[1]
    errors = pynwb.validate(path=path)
    if isinstance(errors, tuple):  # older pynwb: (errors, status)
        errors = errors[0]
    if errors:
        print("validator:", *errors, sep="\n  ")
        return 1
    report = {"validator_errors": 0}
    with NWBHDF5IO(path, "r") as io:
        f = io.read()
        trials = f.trials.to_dataframe()
        units = f.units.to_dataframe()
        series = f.processing["network"]["responses"]
        images = f.stimulus["stimuli"]
        report.update(
            trials=len(trials), trial_columns=list(trials.columns), units=len(units),
            unit_columns=[c for c in units.columns], responses_shape=list(series.data.shape),
            stimulus_frames=list(images.data.shape))
        if series.data.shape != (len(trials), len(units)):
            print("responses shape", series.data.shape, "trials", len(trials), "units", len(units))
            return 1
    data = nap.load_file(path)
    frame = data["responses"]
    intervals = data["trials"]
    report["pynapple"] = {"responses": type(frame).__name__, "trials": type(intervals).__name__,
                          "keys": sorted(data.keys())}
    if type(frame).__name__ != "TsdFrame" or type(intervals).__name__ != "IntervalSet":
        print("pynapple types", report["pynapple"])
        return 1
    if len(sys.argv) > 2:
        responses = np.load(sys.argv[2], mmap_mode="r")
        n, phases, u = responses.shape
        picks = [int(a) for a in sys.argv[3:]] or sorted({0, u // 2, u - 1})
        trials_per_stimulus = frame.shape[0] // n
        for k in picks:
            want = np.asarray(responses[:, :trials_per_stimulus, k]).reshape(-1)
            got = np.asarray(frame.values[:, k])
            if not np.array_equal(want, got):
                print(f"unit {k}: responses differ (max |diff| {np.max(np.abs(want - got))})")
                return 1
        report["compared_units"] = picks
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
