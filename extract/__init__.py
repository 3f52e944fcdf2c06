"""Extract the DfE external data-share register (PDF, ODS, XLSX, CSV releases) into DuckDB."""
