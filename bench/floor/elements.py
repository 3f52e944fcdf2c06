"""Streamlit's own cost of opening a page made of the elements the dashboard's pages use:
sidebar navigation, the filter widgets, a heading, metrics, a data grid of 50 rows and a
small plotly chart (with ``?chart=1``), on made-up numbers with no database. See
``bare.py``."""

import json
import os
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

started = time.perf_counter()
st.set_page_config(page_title="Streamlit floor: elements", layout="wide")
with st.sidebar:
    st.subheader("Filter shares")
    st.selectbox("Release", ["September 2023", "March 2023"])
    st.multiselect("Recipient sector", ["Commercial", "Press", "Academic"])
    st.multiselect("Flags", ["Identifying", "Pupil level"])
    st.text_input("Search")
    st.date_input("Approved from", value=None)
st.header("Elements of a dashboard page", anchor=False)
cols = st.columns(4)
for i, c in enumerate(cols):
    c.metric(f"Figure {i + 1}", f"{(i + 1) * 17}%", border=True)
frame = pd.DataFrame({"reference": [f"DS{i:05d}" for i in range(50)],
                      "recipient": [f"Organisation {i}" for i in range(50)],
                      "pupils": range(50)})
st.dataframe(frame, hide_index=True)
if st.query_params.get("chart") == "1":
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])))
log = os.environ.get("NPD_TIMING_LOG")
if log:
    with open(log, "a", encoding="utf-8") as out:
        out.write(json.dumps({"page": "elements", "ms": (time.perf_counter() - started) * 1000})
                  + "\n")
