"""Log in: the only page before signing in (and for someone without a role)."""

import streamlit as st

from ui.access import current_user, login_note
from ui.router import through_app

through_app()

st.title("RFM segments")
user = current_user()
if user.signed_in:
    st.warning(login_note(user), icon=":material/lock:")
    if st.button("Log out", key="logout_no_role"):
        st.logout()
else:
    st.write(login_note(user))
    if st.button("Log in", key="login", type="primary", icon=":material/login:"):
        st.login()
