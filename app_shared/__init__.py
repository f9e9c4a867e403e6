"""Code shared by the Streamlit pages (the app side; gan_core never imports this)."""
