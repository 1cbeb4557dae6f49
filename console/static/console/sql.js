// posthog_clone console, SQL page: Ctrl/Cmd+Enter runs the query (htmx posts the form); the result's chart is
// drawn with Chart.js from the canvas' data-chart (x = first column, one dataset per numeric column), its type
// (line/bar) and series picked by the reader; a failed query's position is selected in the editor.
(function () {
  'use strict'

  const COLORS = ['#1d4aff', '#f54e00', '#29a329', '#a020f0', '#e5a50a', '#00a3c4', '#d6336c', '#5c5f66']
  let chart = null

  function draw () {
    const canvas = document.getElementById('sql-chart')
    if (chart) { chart.destroy(); chart = null }
    if (!canvas || typeof Chart === 'undefined') return
    const data = JSON.parse(canvas.getAttribute('data-chart') || '{}')
    const typeSelect = document.getElementById('sql-chart-type')
    const shown = new Set()
    document.querySelectorAll('.sql-series-toggle').forEach(function (box) { if (box.checked) shown.add(box.value) })
    const datasets = Object.keys(data.series || {}).map(function (name, i) {
      const color = COLORS[i % COLORS.length]
      return { label: name, data: data.series[name], borderColor: color, backgroundColor: color, hidden: !shown.has(name), spanGaps: true }
    })
    chart = new Chart(canvas, {
      type: typeSelect ? typeSelect.value : 'line',
      data: { labels: data.labels || [], datasets: datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false } }
    })
    canvas.setAttribute('data-datasets', String(datasets.filter(function (d) { return !d.hidden }).length))
  }

  function markError () {
    const editor = document.getElementById('sql-query')
    if (!editor) return
    const failed = document.querySelector('#sql-result .sql-error')
    if (!failed) { editor.removeAttribute('aria-invalid'); return }
    editor.setAttribute('aria-invalid', 'true')
    const start = parseInt(failed.getAttribute('data-error-start'), 10)
    const end = parseInt(failed.getAttribute('data-error-end'), 10)
    if (!isNaN(start) && !isNaN(end)) {
      editor.focus()
      editor.setSelectionRange(start, end)
    }
  }

  function wire () {
    const editor = document.getElementById('sql-query')
    const form = document.getElementById('sql-form')
    if (editor && form) {
      editor.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
          event.preventDefault()
          form.requestSubmit(document.getElementById('sql-run'))
        }
      })
    }
    document.addEventListener('change', function (event) {
      if (event.target.id === 'sql-chart-type' || event.target.classList.contains('sql-series-toggle')) draw()
    })
    document.body.addEventListener('htmx:afterSwap', function (event) {
      const target = (event.detail && event.detail.target) || event.target
      if (target && target.id === 'sql-result') { draw(); markError() }
    })
    draw()
    if (document.querySelector('#sql-result .sql-error')) markError()
  }

  document.addEventListener('DOMContentLoaded', wire)
})()
