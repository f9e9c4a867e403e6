"""The app's pages, one package each: page.py is the thin script Streamlit runs, with its widgets and
computation beside it."""
