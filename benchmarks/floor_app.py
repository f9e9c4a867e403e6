"""The latency floor: the smallest Streamlit app with one slider driving one image.

What Streamlit itself costs for "move a slider, see a new picture"; the latency benchmark measures the
Explore page against it in the same run. The picture is a 28x28 pattern upscaled like Explore's digit.
Run: streamlit run benchmarks/floor_app.py
"""
import numpy as np
import streamlit as st

value = st.slider("z[0]", -3.0, 3.0, 0.0, 0.1)
yy, xx = np.mgrid[0:28, 0:28]
pattern = (127.5 + 127.5 * np.sin((xx + yy) / 4.0 + value * 2.0)).astype(np.uint8)
st.image(pattern.repeat(8, 0).repeat(8, 1), caption="sample", output_format="PNG")
