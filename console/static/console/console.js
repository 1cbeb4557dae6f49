// posthog_clone console: progressive enhancement only (every page works without it).
// An element with data-poll-url is refreshed from that URL (a server-rendered fragment) every data-poll-ms;
// <details> the reader opened stay open, and polling pauses while the tab is hidden.
// A <details data-properties-url> loads its event's properties when opened (kept for later polls); without
// script its link opens the event's own page.
(function () {
  'use strict'

  const loaded = new Map() // event uuid → its properties table

  async function loadProperties (details) {
    const slot = details.querySelector('.properties-slot')
    const uuid = details.parentElement.getAttribute('data-uuid')
    if (!slot) return
    if (loaded.has(uuid)) {
      slot.replaceWith(loaded.get(uuid).cloneNode(true))
      return
    }
    try {
      const response = await fetch(details.getAttribute('data-properties-url'), { credentials: 'same-origin' })
      if (!response.ok) return
      const page = new DOMParser().parseFromString(await response.text(), 'text/html')
      const table = page.querySelector('table.event-properties')
      if (!table || !slot.isConnected) return
      loaded.set(uuid, table)
      slot.replaceWith(table.cloneNode(true))
    } catch (error) {
      slot.textContent = 'Could not load the properties: ' + error
    }
  }

  document.addEventListener('toggle', function (event) {
    const details = event.target
    if (details.open && details.hasAttribute && details.hasAttribute('data-properties-url')) loadProperties(details)
  }, true)

  function openUuids (root) {
    const open = new Set()
    root.querySelectorAll('li[data-uuid] > details[open]').forEach(function (d) {
      open.add(d.parentElement.getAttribute('data-uuid'))
    })
    return open
  }

  function poll (root) {
    const url = root.getAttribute('data-poll-url')
    const every = parseInt(root.getAttribute('data-poll-ms') || '2000', 10)
    const status = document.getElementById('live-status')
    let busy = false

    async function refresh () {
      if (busy || document.hidden) return
      busy = true
      try {
        const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
        if (response.status === 401) {
          if (status) status.textContent = 'Signed out: reload the page to sign in again.'
          return
        }
        if (!response.ok) return
        const html = await response.text()
        const open = openUuids(root)
        const fresh = new DOMParser().parseFromString(html, 'text/html').body
        fresh.querySelectorAll('li[data-uuid]').forEach(function (li) {
          if (open.has(li.getAttribute('data-uuid'))) li.querySelector('details').setAttribute('open', '')
        })
        root.replaceChildren.apply(root, Array.from(fresh.childNodes))
        root.setAttribute('data-refreshed-at', String(Date.now()))
      } catch (error) {
        if (status) status.textContent = 'Live updates paused: ' + error
      } finally {
        busy = false
      }
    }
    setInterval(refresh, every)
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-poll-url]').forEach(poll)
  })
})()
