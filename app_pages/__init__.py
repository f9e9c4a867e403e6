"""The app's pages, one package each: page.py is the thin script Streamlit runs, its widgets and computation beside it."""
