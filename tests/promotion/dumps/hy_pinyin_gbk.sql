-- Source note: a self-built platform whose developer named tables and columns by pinyin initials
-- (会员信息 → tb_hyxx, 会员编号 → hybh); only the Chinese COMMENTs say what they are.
-- Dumped by Navicat with SET NAMES gbk; the test encodes this file in GBK.
SET NAMES gbk;
SET FOREIGN_KEY_CHECKS = 0;

-- ----------------------------
-- Table structure for tb_hyxx
-- ----------------------------
DROP TABLE IF EXISTS `tb_hyxx`;
CREATE TABLE `tb_hyxx`  (
  `hybh` varchar(20) CHARACTER SET gbk COLLATE gbk_chinese_ci NOT NULL COMMENT '会员编号',
  `sjbh` varchar(20) CHARACTER SET gbk COLLATE gbk_chinese_ci NULL DEFAULT NULL COMMENT '上级编号',
  `xm` varchar(20) CHARACTER SET gbk COLLATE gbk_chinese_ci NULL DEFAULT NULL COMMENT '姓名',
  `sjhm` varchar(20) CHARACTER SET gbk COLLATE gbk_chinese_ci NULL DEFAULT NULL COMMENT '手机号码',
  `zcsj` datetime NULL DEFAULT NULL COMMENT '注册时间',
  PRIMARY KEY (`hybh`) USING BTREE
) ENGINE = InnoDB CHARACTER SET = gbk COLLATE = gbk_chinese_ci COMMENT = '会员信息' ROW_FORMAT = Dynamic;

-- ----------------------------
-- Records of tb_hyxx
-- ----------------------------
INSERT INTO `tb_hyxx` VALUES ('HY001', NULL, '周杰', '13700000001', '2024-01-01 10:00:00');
INSERT INTO `tb_hyxx` VALUES ('HY002', 'HY001', '吴磊', '13700000002', '2024-01-02 10:00:00');
INSERT INTO `tb_hyxx` VALUES ('HY003', 'HY002', '郑爽', NULL, '2024-01-03 10:00:00');

-- ----------------------------
-- Table structure for tb_tzjl
-- ----------------------------
DROP TABLE IF EXISTS `tb_tzjl`;
CREATE TABLE `tb_tzjl`  (
  `zdh` varchar(32) NOT NULL COMMENT '注单号',
  `hybh` varchar(20) NOT NULL COMMENT '会员编号',
  `yxmc` varchar(32) NULL DEFAULT NULL COMMENT '游戏名称',
  `je` decimal(12, 2) NOT NULL COMMENT '金额',
  `pcje` decimal(12, 2) NULL DEFAULT NULL COMMENT '派彩金额',
  `tzsj` datetime NOT NULL COMMENT '投注时间',
  PRIMARY KEY (`zdh`) USING BTREE
) ENGINE = InnoDB CHARACTER SET = gbk COMMENT = '投注记录';

INSERT INTO `tb_tzjl` VALUES ('Z0001', 'HY003', '百家乐', 1000.00, 1950.00, '2024-02-01 21:00:00');
INSERT INTO `tb_tzjl` VALUES ('Z0002', 'HY003', '百家乐', 2000.00, 0.00, '2024-02-01 21:01:00');

-- ----------------------------
-- Table structure for tb_czjl
-- ----------------------------
DROP TABLE IF EXISTS `tb_czjl`;
CREATE TABLE `tb_czjl`  (
  `ddh` varchar(32) NOT NULL COMMENT '订单号',
  `hybh` varchar(20) NOT NULL COMMENT '会员编号',
  `je` decimal(12, 2) NOT NULL COMMENT '金额',
  `skzh` varchar(32) NULL DEFAULT NULL COMMENT '收款账号',
  `zt` varchar(8) NULL DEFAULT NULL COMMENT '状态',
  `czsj` datetime NOT NULL COMMENT '充值时间',
  PRIMARY KEY (`ddh`) USING BTREE
) ENGINE = InnoDB CHARACTER SET = gbk COMMENT = '充值记录';

INSERT INTO `tb_czjl` VALUES ('D0001', 'HY003', 3000.00, '6228480000000001', '成功', '2024-02-01 20:00:00');

SET FOREIGN_KEY_CHECKS = 1;
