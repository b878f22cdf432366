"""The director's dashboard: key figures and server-side SVG charts."""
