"""The fund's annual plan (Circular 52/2022/TT-BTC Phụ lục 3–6): the lines the fund plans
for a year, prepared by the accountant and approved by the director. What each line's
actual is at a date is read from the ledger by ``fundapp.reports.plan_actual``."""
