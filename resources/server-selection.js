/*
 * The editor side of "which server": shared by every node of this package
 * that takes either one iLO (an ilo-config node) or a fleet (an ilo-fleet
 * node) and the server's name, fixed or from msg.server. Loaded by each
 * node's HTML with a <script src> from the package's resources.
 */
(function () {
  'use strict';

  /** The target as the open dialog shows it, else as the node has it. */
  function targetOf(node) {
    var select = $('#node-input-target');
    return select.length ? select.val() : node.target;
  }

  /** Required only on the side that is chosen; the message comes from the node's own catalogue. */
  function required(side, type) {
    return function (v, opt) {
      var chosen = targetOf(this) === 'fleet' ? 'fleet' : 'server';
      if (chosen !== side || (v && v !== '_ADD_')) return true;
      return opt && this._ ? this._(type + '.validation.' + side) : false;
    };
  }

  window.iloServerSelection = {
    /** The `defaults` entries: target, server, fleet, serverName (messages under `<type>.validation`). */
    defaults: function (type) {
      return {
        target: { value: 'config' },
        server: { value: '', type: 'ilo-config', validate: required('server', type) },
        fleet: { value: '', type: 'ilo-fleet', validate: required('fleet', type) },
        serverName: { value: '' },
      };
    },
    /** In oneditprepare: show the rows of the chosen side (.ilo-target-config or .ilo-target-fleet). */
    prepare: function () {
      var select = $('#node-input-target');
      function toggle() {
        var fleet = select.val() === 'fleet';
        $('.ilo-target-config').toggle(!fleet);
        $('.ilo-target-fleet').toggle(fleet);
      }
      if (!select.val()) select.val('config');
      select.on('change', toggle);
      toggle();
    },
  };
})();
