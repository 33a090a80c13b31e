"""Report maths: the summary, the comparison, the month-end estimate, the chart."""
