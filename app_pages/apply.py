import streamlit as st

st.title("apply")
st.info("This page is being built.")
