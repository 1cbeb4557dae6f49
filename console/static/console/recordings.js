// posthog_clone console: the recording player. Reads the recording's rrweb events from the console's own
// snapshots endpoint (data-snapshots-url) and plays them in the pinned rrweb-player (global `rrwebPlayer`).
// The element's data-state says where it is: loading, playing, finished, empty or error.
(function () {
  'use strict'

  function say (root, state, text) {
    root.setAttribute('data-state', state)
    const status = document.getElementById('player-status')
    if (status) status.textContent = text
  }

  async function events (root) {
    const response = await fetch(root.getAttribute('data-snapshots-url'), {
      credentials: 'same-origin', headers: { Accept: 'application/json' }
    })
    if (response.status === 401) throw new Error('Signed out: reload the page to sign in again.')
    if (!response.ok) throw new Error('The recording could not be loaded (' + response.status + ').')
    const body = await response.json()
    return body.snapshots.map(function (line) { return line[1] }) // [window_id, event], in time order
  }

  async function start (root) {
    say(root, 'loading', 'Loading the recording…')
    let list
    try {
      list = await events(root)
    } catch (error) {
      say(root, 'error', String(error.message || error))
      return
    }
    if (!list.some(function (event) { return event.type === 2 })) {
      say(root, 'empty', 'This recording has no full snapshot yet, so there is nothing to play.')
      return
    }
    const Player = window.rrwebPlayer.default || window.rrwebPlayer
    const width = Math.min(root.clientWidth || 1024, 1024)
    const player = new Player({
      target: root,
      props: {
        events: list,
        width: width,
        height: Math.round(width * 9 / 16),
        autoPlay: true,
        skipInactive: true,
        mouseTail: false,
        showWarning: false,
        triggerFocus: false
      }
    })
    player.addEventListener('finish', function () { say(root, 'finished', 'Played to the end.') })
    say(root, 'playing', 'Playing ' + list.length + ' events.')
  }

  document.addEventListener('DOMContentLoaded', function () {
    const root = document.getElementById('player')
    if (root && root.hasAttribute('data-snapshots-url')) start(root)
  })
})()
