import PVCore

/// A complete, valid configuration for unit tests (nothing it names is reached).
public var testConfigText: String {
    """
    resource_id = t1
    management_url = http://127.0.0.1:1
    management_token = tok
    registry = 127.0.0.1:5000
    image_dns = pv-dns
    image_dhcp = pv-dhcp
    image_monitoring = pv-monitoring
    docker_host = unix:///tmp/fake.sock
    dns_verify_server = 127.0.0.1
    dns_verify_port = 5353
    dhcp_server_interface = pvv-srv
    dhcp_verify_interface = pvv-cli
    rabbitmq_uri = amqp://u:p@127.0.0.1:5672/%2F
    """
}

public let testConfig = try! ConfigParser.parse(testConfigText, file: "test")
