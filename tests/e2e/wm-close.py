#!/usr/bin/python3
"""Asks the windows of process PID to close as a window manager's close button does: a
WM_DELETE_WINDOW client message. Under Xvfb there is no window manager to send it, and
WebDriver's own close destroys the page instead of asking the window. Debian's python3,
which has python3-xlib (tests/setup.sh)."""
import sys

from Xlib import X, display, protocol

pid = int(sys.argv[1])
screen = display.Display()
root = screen.screen().root
NET_WM_PID = screen.intern_atom("_NET_WM_PID")
PROTOCOLS = screen.intern_atom("WM_PROTOCOLS")
DELETE = screen.intern_atom("WM_DELETE_WINDOW")


def windows(parent):
    for child in parent.query_tree().children:
        yield child
        yield from windows(child)


asked = 0
for window in windows(root):
    owner = window.get_full_property(NET_WM_PID, X.AnyPropertyType)
    if not owner or owner.value[0] != pid or window.get_attributes().map_state != X.IsViewable:
        continue
    if DELETE not in (window.get_wm_protocols() or []):
        continue
    event = protocol.event.ClientMessage(window=window, client_type=PROTOCOLS, data=(32, [DELETE, X.CurrentTime, 0, 0, 0]))
    window.send_event(event, event_mask=X.NoEventMask)
    asked += 1
screen.flush()
if asked == 0:
    sys.exit(f"no window of process {pid} takes WM_DELETE_WINDOW")
print(f"asked {asked} window(s) of process {pid} to close")
