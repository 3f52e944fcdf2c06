"""Streamlit's own cost of opening a page: a heading and a line of text, nothing else.

Served by ``bench/bench_dashboard.py --browser`` beside the dashboard, so the time a page of
ours takes can be read against what the framework needs for an empty one on this machine.
"""

import json
import os
import time

import streamlit as st

started = time.perf_counter()
st.set_page_config(page_title="Streamlit floor: bare page", layout="wide")
st.header("A bare page", anchor=False)
st.write("Streamlit's own cost of opening a page.")
log = os.environ.get("NPD_TIMING_LOG")
if log:
    with open(log, "a", encoding="utf-8") as out:
        out.write(json.dumps({"page": "bare", "ms": (time.perf_counter() - started) * 1000})
                  + "\n")
