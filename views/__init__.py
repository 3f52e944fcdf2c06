"""The dashboard's pages (run by ``st.navigation`` from ``app.py``) and their query module.

``views/data.py`` holds every query as a plain function of a read-only DuckDB connection, so
the pages, the tests and ``bench/bench_dashboard.py`` time and check the same code.
"""
