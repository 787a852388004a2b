"""obs dashboard: the overview. Trends, tiles, and a way from a spike to the calls behind it."""

import streamlit as st

from obs import ui
from obs.ui import alerts, charts
from obs.ui.views import drilldown

filters = ui.page("Overview")
alerts.firing_alerts(compact=True)
kpis = ui.kpi_tiles(filters)
if not kpis["calls"]:
    st.info("No calls in this window. Record some with `obs.wrap(OpenAI())`, or run `obs demo`.")
    st.stop()


trends = ui.query("trends", filters, bucket=filters.bucket)
window = (filters.start, filters.end)
left, right = st.columns(2)
with left:
    if filters.bucket == "hour":
        st.markdown("**Cost per hour**")
        cost_chart = charts.cost_by_hour(trends, window)
    else:
        st.markdown("**Cost by feature**")
        cost_chart = charts.cost_by_feature(ui.query("daily_cost_by_feature", filters), window)
    drilldown(st.altair_chart(cost_chart, on_select="rerun", key="cost"), filters)
with right:
    st.markdown("**Latency percentiles**")
    drilldown(
        st.altair_chart(charts.latency_percentiles(trends, filters.bucket, window), on_select="rerun", key="lat"),
        filters,
    )
left, right = st.columns(2)
with left:
    st.markdown("**Refusal rate by model and prompt version**")
    refusals = ui.query("refusal_trend", filters, bucket=filters.bucket)
    event = st.altair_chart(
        charts.refusal_by_model_and_prompt(refusals, filters.bucket, window), on_select="rerun", key="refusal"
    )
    drilldown(event, filters)
with right:
    st.markdown("**Error rate**")
    event = st.altair_chart(
        charts.rate_by_bucket(trends, "error_rate", "Error rate", filters.bucket, window),
        on_select="rerun",
        key="err",
    )
    drilldown(event, filters)
st.caption(
    "Click a point or a bar to open the calls of its day (or hour) and series: a bar's feature, a refusal point's "
    'model and prompt version (a percentile, the error rate or the refusals\' "other": all the calls of that '
    "bucket). The filters stay. Faded: a first or last bucket only partly inside the window. Rates leave out "
    f"buckets of fewer than {charts.MIN_RATE_CALLS} calls; the refusal chart draws the {charts.TOP_SERIES} most "
    'called model and prompt versions, the rest as "other".'
)
