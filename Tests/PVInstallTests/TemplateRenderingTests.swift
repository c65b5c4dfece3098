import Testing
@testable import PVInstall

@Suite struct TemplateRenderingTests {
    @Test func theRootIsReplacedWhereAPathBeginsWithIt() {
        let unit = """
            # (or linked there from /provision/libs) by pv_install.
            User=provision
            ExecStart=/provision/libs/pv_heartbeat --root /provision
            ReadWritePaths=-/provision/state
            """
        #expect(TemplateRendering.render(unit, root: "/tmp/sb", user: "agent") == """
            # (or linked there from /tmp/sb/libs) by pv_install.
            User=agent
            ExecStart=/tmp/sb/libs/pv_heartbeat --root /tmp/sb
            ReadWritePaths=-/tmp/sb/state
            """)
    }

    @Test func otherPathsThatContainTheNameAreLeftAlone() {
        let sudoers = """
            # ProVision agent (Ubuntu/Debian): /etc/sudoers.d/provision, mode 0440.
            # no sudo: its helper /usr/libexec/provision/pv_dhcp_probe has the capability cap_net_raw.)
            <user> ALL=(root) NOPASSWD: /bin/systemctl restart pv_heartbeat.timer
            # /provisioning and /provision.d are other directories
            """
        #expect(TemplateRendering.render(sudoers, root: "/tmp/sb", user: "agent") == """
            # ProVision agent (Ubuntu/Debian): /etc/sudoers.d/provision, mode 0440.
            # no sudo: its helper /usr/libexec/provision/pv_dhcp_probe has the capability cap_net_raw.)
            agent ALL=(root) NOPASSWD: /bin/systemctl restart pv_heartbeat.timer
            # /provisioning and /provision.d are other directories
            """)
    }

    @Test func theDefaultsRenderToThemselves() {
        let text = "User=provision\nExecStart=/provision/libs/pv_heartbeat --root /provision\n"
        #expect(TemplateRendering.render(text, root: "/provision", user: "provision") == text)
    }
}
