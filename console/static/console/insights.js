// posthog_clone console: draws insights with the pinned Chart.js (global `Chart`). Each <canvas data-chart>
// carries its spec (built by console/insights_charts.py) as JSON in the attribute; nothing runs inline.
// Annotations are drawn by a small plugin of ours: a dashed vertical line at each annotated bucket, its text
// on top. Drawn markers are recorded on the chart (`chart.$annotationMarkers`) so tests can read them.
(function () {
  'use strict'

  const PALETTE = ['#1d4aff', '#f04f58', '#42827e', '#f7a501', '#a621c8', '#5375ff', '#e06c00', '#2d8a3e',
    '#c4157c', '#555f73']
  const LIFECYCLE = { new: '#1d4aff', returning: '#388600', resurrecting: '#a56eff', dormant: '#db3707' }

  const annotationMarkers = {
    id: 'consoleAnnotations',
    afterDatasetsDraw: function (chart, _args, options) {
      const markers = (options && options.markers) || []
      const x = chart.scales.x
      if (!x || !markers.length) { chart.$annotationMarkers = []; return }
      const area = chart.chartArea
      const ctx = chart.ctx
      const drawn = []
      markers.forEach(function (marker) {
        const px = x.getPixelForValue(marker.index)
        if (!isFinite(px) || px < area.left - 1 || px > area.right + 1) return
        ctx.save()
        ctx.strokeStyle = '#7a5c00'
        ctx.lineWidth = 1.5
        ctx.setLineDash([4, 3])
        ctx.beginPath()
        ctx.moveTo(px, area.top)
        ctx.lineTo(px, area.bottom)
        ctx.stroke()
        ctx.setLineDash([])
        ctx.fillStyle = '#7a5c00'
        ctx.font = '11px system-ui, sans-serif'
        const text = marker.text.length > 28 ? marker.text.slice(0, 27) + '…' : marker.text
        const width = ctx.measureText(text).width
        const left = Math.min(Math.max(px + 3, area.left), area.right - width)
        ctx.fillText(text, left, area.top + 11)
        ctx.restore()
        drawn.push({ index: marker.index, text: marker.text, x: px })
      })
      chart.$annotationMarkers = drawn
    },
  }

  function colour (i, dataset) {
    if (dataset.status && LIFECYCLE[dataset.status]) return LIFECYCLE[dataset.status]
    return PALETTE[i % PALETTE.length]
  }

  function datasets (spec) {
    return spec.datasets.map(function (ds, i) {
      const c = colour(i, ds)
      const out = { label: ds.label, data: ds.data, borderColor: c, backgroundColor: c, borderWidth: 2,
        pointRadius: spec.labels.length > 60 ? 0 : 2, tension: 0 }
      if (spec.type === 'line' && spec.fill) { out.fill = true; out.backgroundColor = c + '55' }
      if (spec.type === 'pie') out.backgroundColor = ds.data.map(function (_v, j) { return PALETTE[j % PALETTE.length] })
      if (ds.counts) out.counts = ds.counts
      return out
    })
  }

  function tooltipLabel (spec) {
    return function (item) {
      const ds = item.dataset
      if (spec.funnel && ds.counts) return ds.label + ': ' + ds.counts[item.dataIndex] + ' (' + item.formattedValue + '%)'
      return ds.label + ': ' + item.formattedValue + (spec.percent ? '%' : '')
    }
  }

  function config (spec) {
    const cfg = {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets(spec) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: spec.datasets.length > 1 || spec.type === 'pie', position: 'bottom' },
          tooltip: { callbacks: { label: tooltipLabel(spec) } },
          consoleAnnotations: { markers: spec.annotations || [] },
        },
      },
      plugins: [annotationMarkers],
    }
    if (spec.type !== 'pie') {
      const valueAxis = spec.indexAxis === 'y' ? 'x' : 'y'
      cfg.options.indexAxis = spec.indexAxis || 'x'
      cfg.options.scales = { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked } }
      cfg.options.scales[valueAxis].beginAtZero = true
      if (spec.percent) {
        cfg.options.scales[valueAxis].max = spec.funnel ? 100 : undefined
        cfg.options.scales[valueAxis].ticks = { callback: function (v) { return v + '%' } }
      }
    }
    return cfg
  }

  function draw (canvas) {
    let spec
    try {
      spec = JSON.parse(canvas.getAttribute('data-chart'))
    } catch (error) {
      canvas.setAttribute('data-chart-error', String(error))
      return
    }
    if (typeof Chart === 'undefined') {
      canvas.setAttribute('data-chart-error', 'Chart.js is not loaded')
      return
    }
    const chart = new Chart(canvas, config(spec))
    canvas.setAttribute('data-drawn', 'true')
    return chart
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('canvas[data-chart]').forEach(draw)
  })
})()
