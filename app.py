"""LLM hardware planner — Streamlit entry point. Routing only: every page lives in
ui/pages/, every computation in sizing/ and pricing/. Run: ``streamlit run app.py``."""

import streamlit as st

SIDEBAR_WIDTH_PX = 440  # every input value fits whole (longest model label: 49 characters)
st.set_page_config(
    page_title="LLM hardware planner",
    page_icon=":material/memory:",
    layout="wide",
    initial_sidebar_state=SIDEBAR_WIDTH_PX,
)

PAGES = [
    st.Page(
        "ui/pages/compare.py",
        title="Compare",
        icon=":material/compare_arrows:",
        url_path="home",
        default=True,
    ),
    # The default page is served at "/"; "/compare" (an address people type or keep from
    # an earlier version) opens the same page instead of Streamlit's "Page not found".
    st.Page(
        "ui/pages/compare.py",
        title="Compare",
        icon=":material/compare_arrows:",
        url_path="compare",
        visibility="hidden",
    ),
    st.Page("ui/pages/build.py", title="Build", icon=":material/construction:", url_path="build"),
    st.Page("ui/pages/plan.py", title="Plan", icon=":material/checklist:", url_path="plan"),
    st.Page("ui/pages/fit.py", title="Fit", icon=":material/grid_on:", url_path="fit"),
    st.Page("ui/pages/cost.py", title="Cost", icon=":material/savings:", url_path="cost"),
    st.Page("ui/pages/prices.py", title="Prices", icon=":material/sell:", url_path="prices"),
    st.Page(
        "ui/pages/assumptions.py",
        title="Assumptions",
        icon=":material/menu_book:",
        url_path="assumptions",
    ),
]

st.navigation(PAGES).run()
